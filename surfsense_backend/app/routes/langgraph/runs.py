"""Runs of a thread: in the background, streamed or waited for; listed, read,
joined, rejoined after a drop, cancelled and deleted. A run executes on the
chat run engine, so it queues, survives its client and replays from any process."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from app.db.session import SessionDep
from app.models import CancelAction, ThreadRun
from app.routes.langgraph.deps import Assistants, Conversations
from app.routes.langgraph.stream import agent_stream
from app.routes.sse import EVENT_STREAM, STREAM_HEADERS, LastEventId, with_heartbeats
from app.schemas.errors import error_responses
from app.schemas.langgraph import RunCreateIn, RunOut, StreamModeName
from app.services.auth.users import CurrentUser, RunCaller
from app.services.runs.runner import ChatRunner
from app.services.runs.service import RunService
from app.services.threads.runs import ThreadRunControl, ThreadRuns, run_json
from app.services.threads.service import thread_uuid

router = APIRouter(
    prefix="/threads/{thread_id}", tags=["langgraph"], responses=error_responses(401, 422, 503)
)
STREAM = {"content": {EVENT_STREAM: {}}, "description": "The run's events, in the Agent Server's format."}


def _runner(request: Request) -> ChatRunner:
    runner: ChatRunner = request.app.state.chat_runner
    return runner


async def _runs(request: Request, session: SessionDep, user: CurrentUser, agents: Assistants) -> ThreadRuns:
    return ThreadRuns(session, user.id, agents, _runner(request))


Runs = Annotated[ThreadRuns, Depends(_runs)]


async def _control(request: Request, user: RunCaller, agents: Assistants) -> ThreadRunControl:
    return ThreadRunControl(request.app.state.sessionmaker, user.id, agents, _runner(request))


Control = Annotated[ThreadRunControl, Depends(_control)]


def _where(thread_id: str, run_id: uuid.UUID) -> str:
    """A run's path from the API's root: the SDKs join it to their base URL."""
    return f"/threads/{thread_id}/runs/{run_id}"


def _streaming(request: Request, frames: AsyncIterator[bytes]) -> StreamingResponse:
    every = request.app.state.stream_heartbeat
    return StreamingResponse(with_heartbeats(frames, every), media_type=EVENT_STREAM, headers=STREAM_HEADERS)


def _events(request: Request, run: ThreadRun, named: list[str] | None, after: int) -> AsyncIterator[bytes]:
    """A run's stream after event `after`, in the modes it was started with
    (those of them `named`, if any), from wherever it runs."""
    kwargs = run.kwargs or {}
    recorded = kwargs.get("stream_mode") or ["values"]
    modes = [mode for mode in recorded if mode in named] if named else recorded
    subgraphs = bool(kwargs.get("stream_subgraphs"))
    return agent_stream(_runner(request).follow(run.run_id), modes, subgraphs, after)


async def _cancelled_on_disconnect(
    frames: AsyncIterator[bytes], runner: ChatRunner, run: ThreadRun
) -> AsyncIterator[bytes]:
    """`frames`; a client that leaves before the run's end cancels it (`on_disconnect=cancel`)."""
    ended = False
    try:
        async for frame in frames:
            yield frame
        ended = True
    finally:
        if not ended:
            runner.cancel_soon(run, CancelAction.INTERRUPT)


@router.post("/runs", responses=error_responses(404, 409))
async def create_run(thread_id: str, body: RunCreateIn, control: Control) -> JSONResponse:
    run = await control.start(thread_id, body)
    headers = {"Content-Location": _where(thread_id, run.run_id)}
    out = RunOut.model_validate(run_json(run))
    return JSONResponse(out.model_dump(mode="json", by_alias=True), headers=headers)


@router.post(
    "/runs/stream",
    response_class=StreamingResponse,
    responses={**error_responses(404, 409), 200: STREAM},
)
async def stream_new_run(
    thread_id: str, body: RunCreateIn, request: Request, control: Control
) -> StreamingResponse:
    return new_run_stream(request, await control.start(thread_id, body), body)


def new_run_stream(request: Request, run: ThreadRun, body: RunCreateIn) -> StreamingResponse:
    """A run's stream for the client that started it, with where to rejoin it."""
    frames = _events(request, run, None, 0)
    if body.on_disconnect == "cancel":
        frames = _cancelled_on_disconnect(frames, _runner(request), run)
    response = _streaming(request, frames)
    where = _where(str(run.conversation_id), run.run_id)
    response.headers["Location"] = f"{where}/stream"
    response.headers["Content-Location"] = where
    return response


@router.post("/runs/wait", responses=error_responses(404, 409))
async def wait_for_new_run(thread_id: str, body: RunCreateIn, control: Control) -> JSONResponse:
    run = await control.start(thread_id, body)
    where = _where(thread_id, run.run_id)
    output = await control.outcome(run)
    return JSONResponse(output, headers={"Location": f"{where}/join", "Content-Location": where})


@router.get("/runs", responses=error_responses(404))
async def list_runs(
    thread_id: str,
    runs: Runs,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    status: Literal["pending", "running", "error", "success", "timeout", "interrupted"] | None = None,
) -> list[RunOut]:
    conversation = await runs.thread(thread_id)
    found = await runs.list(thread_id, limit, offset, status)
    return [RunOut.model_validate(run_json(run, conversation.assistant_id)) for run in found]


@router.get("/runs/{run_id}", responses=error_responses(404))
async def get_run(thread_id: str, run_id: uuid.UUID, runs: Runs) -> RunOut:
    run, conversation = await runs.get(thread_id, run_id)
    return RunOut.model_validate(run_json(run, conversation.assistant_id))


@router.delete("/runs/{run_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409))
async def delete_run(thread_id: str, run_id: uuid.UUID, runs: Runs) -> Response:
    await runs.delete(thread_id, run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/runs/{run_id}/join", responses=error_responses(404))
async def join_run(thread_id: str, run_id: uuid.UUID, control: Control) -> dict[str, Any]:
    return await control.outcome(await control.get(thread_id, run_id))


@router.get(
    "/runs/{run_id}/stream",
    response_class=StreamingResponse,
    responses={**error_responses(404), 200: STREAM},
)
async def join_run_stream(
    thread_id: str,
    run_id: uuid.UUID,
    *,
    request: Request,
    runs: Runs,
    # The SDKs send the parameter empty when no mode is named.
    stream_mode: Annotated[list[Literal[StreamModeName, ""]] | None, Query()] = None,
    cancel_on_disconnect: bool = False,
    last_event_id: LastEventId = 0,
) -> StreamingResponse:
    """The run's stream, live or ended, from any process: after `Last-Event-ID`,
    in the modes it was started with (or those of them `stream_mode` names);
    `cancel_on_disconnect`: a client that leaves before its end cancels it."""
    run, _ = await runs.get(thread_id, run_id)
    named: list[str] = [mode for mode in stream_mode or [] if mode]
    frames = _events(request, run, named, last_event_id)
    if cancel_on_disconnect:
        frames = _cancelled_on_disconnect(frames, _runner(request), run)
    return _streaming(request, frames)


@router.get("/stream", response_class=StreamingResponse, responses={**error_responses(404), 200: STREAM})
async def join_thread_stream(
    thread_id: str,
    request: Request,
    conversations: Conversations,
    last_event_id: LastEventId = 0,
) -> StreamingResponse:
    """The thread's active run (running, else the first queued), as
    `join_stream` of that run; a thread with none ends its stream at once."""
    run = await RunService(conversations).active(thread_uuid(thread_id))
    if run is None:
        return _streaming(request, _nothing())
    return _streaming(request, _events(request, run, None, last_event_id))


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # an async generator that ends at once


@router.post(
    "/runs/{run_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**error_responses(404, 409), 204: {"description": "Stopped (`wait=1`)."}},
)
async def cancel_run(
    thread_id: str,
    run_id: uuid.UUID,
    *,
    request: Request,
    control: Control,
    wait: bool = False,
    action: Literal["interrupt", "rollback"] = "interrupt",
) -> Response:
    """Stop a pending or running run from any process: `interrupt` keeps what
    it did, `rollback` removes every trace of it."""
    await control.cancel(thread_id, run_id, CancelAction(action))
    if not wait:
        return Response(status_code=status.HTTP_202_ACCEPTED)
    async for _ in _runner(request).follow(run_id):  # to its end
        pass
    return Response(status_code=status.HTTP_204_NO_CONTENT)
