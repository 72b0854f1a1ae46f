"""Stateless runs: a thread made for the run, deleted once it ends
(`on_completion="delete"`, the default) or kept (`keep`). A background one
is read back as any run of its thread (`runs.get`, `runs.join`) while its
thread lasts."""

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, StreamingResponse

from app.routes.langgraph.runs import STREAM, Control, new_run_stream
from app.schemas.errors import error_responses
from app.schemas.langgraph import RunCreateIn, RunOut
from app.services.auth.users import RunCaller
from app.services.threads.runs import forget_thread, run_json

router = APIRouter(prefix="/runs", tags=["langgraph"], responses=error_responses(401, 409, 422, 503))

# A bound on one request's runs: each is a thread and a run, in one transaction.
MAX_BATCH = 100


@router.post("", responses=error_responses(404))
async def create_stateless_run(body: RunCreateIn, control: Control) -> JSONResponse:
    """A background run on a thread of its own; its record names the thread."""
    [run] = await control.start_stateless([body])
    out = RunOut.model_validate(run_json(run))
    return JSONResponse(
        out.model_dump(mode="json", by_alias=True), headers={"Content-Location": f"/runs/{run.run_id}"}
    )


@router.post("/batch", responses=error_responses(404))
async def create_stateless_runs(
    bodies: Annotated[list[RunCreateIn], Body(min_length=1, max_length=MAX_BATCH)], control: Control
) -> list[RunOut]:
    """Background runs, each on a thread of its own: all started, or none."""
    return [RunOut.model_validate(run_json(run)) for run in await control.start_stateless(bodies)]


@router.post("/stream", response_class=StreamingResponse, responses={200: STREAM})
async def stream_stateless_run(body: RunCreateIn, request: Request, control: Control) -> StreamingResponse:
    run = await control.start(None, body)
    if body.on_completion == "delete":
        control.forget_when_ended(run)
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
