"""Stateless runs: a thread made for the run, deleted once it ends
(`on_completion="delete"`, the default) or kept (`keep`)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from app.routes.langgraph.runs import STREAM, Control, new_run_stream
from app.schemas.errors import error_responses
from app.schemas.langgraph import RunCreateIn
from app.services.auth.users import RunCaller
from app.services.runs.runner import ChatRunner
from app.services.threads.runs import forget_thread

router = APIRouter(prefix="/runs", tags=["langgraph"], responses=error_responses(401, 409, 422, 503))


@router.post("/stream", response_class=StreamingResponse, responses={200: STREAM})
async def stream_stateless_run(
    body: RunCreateIn, request: Request, control: Control, user: RunCaller
) -> StreamingResponse:
    run = await control.start(None, body)
    runner: ChatRunner = request.app.state.chat_runner
    if body.on_completion == "delete":
        sessions = request.app.state.sessionmaker
        runner.when_ended(run.run_id, lambda: forget_thread(sessions, user.id, run.conversation_id))
    return new_run_stream(request, run, body)


@router.post("/wait")
async def wait_for_stateless_run(
    body: RunCreateIn, request: Request, control: Control, user: RunCaller
) -> JSONResponse:
    """The run's output; its thread is deleted after, even if the client left first."""
    run = await control.start(None, body)
    try:
        output = await control.outcome(run)
    finally:
        if body.on_completion == "delete":
            await forget_thread(request.app.state.sessionmaker, user.id, run.conversation_id)
    return JSONResponse(output)
