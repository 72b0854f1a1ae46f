"""Conversations, their messages, runs and checkpoints. Thin: validate, call a service."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from langchain_core.messages import BaseMessage

from app.agents.registry import CompiledAssistants
from app.db.session import SessionDep
from app.db.text import BIGINT_MAX
from app.models import CancelAction
from app.routes.sse import EVENT_STREAM, STREAM_HEADERS, LastEventId, event_stream, with_heartbeats
from app.routes.ui_message_stream import HEADER as UI_MESSAGE_STREAM_HEADER
from app.routes.ui_message_stream import ui_message_stream
from app.schemas.conversations import (
    AssistantListOut,
    AssistantOut,
    ChatReplyOut,
    CheckpointOut,
    CheckpointPageOut,
    CheckpointStateOut,
    ConversationCreate,
    ConversationOut,
    ConversationPageOut,
    ConversationUpdate,
    FeedbackIn,
    ForkIn,
    MessageIn,
    MessageOut,
    MessagePageOut,
    RunListOut,
    RunOut,
    StateMessageOut,
    SubgraphStateOut,
)
from app.schemas.errors import error_responses
from app.schemas.text import StoredText
from app.services.assistants.service import AssistantService
from app.services.auth.users import CurrentUser, RunCaller
from app.services.chat_assistants import ChatTurns, choose_assistant
from app.services.chat_assistants import create_conversation as create_conversation_with
from app.services.conversations.archived import ArchivedFilter
from app.services.conversations.service import ConversationService
from app.services.forks import fork
from app.services.messages.history import MAX_PAGE_SIZE
from app.services.messages.incoming import message_metadata, role_of
from app.services.persistence import CheckpointNotFound
from app.services.runs.interrupts import jsonable
from app.services.runs.runner import ChatRunner
from app.services.runs.service import RunService

router = APIRouter(prefix="/api/v1", tags=["conversations"], responses=error_responses(401, 422, 503))


async def _service(request: Request, session: SessionDep, user: CurrentUser) -> ConversationService:
    return ConversationService(session, user.id, request.app.state.secret_key, _assistants(request).registry)


def _assistants(request: Request) -> CompiledAssistants:
    assistants: CompiledAssistants = request.app.state.chat_runner.agents
    return assistants


Service = Annotated[ConversationService, Depends(_service)]


async def _runs(service: Service) -> RunService:
    return RunService(service)


Runs = Annotated[RunService, Depends(_runs)]


async def _stored_assistants(request: Request, session: SessionDep, user: CurrentUser) -> AssistantService:
    return AssistantService(session, user.id, _assistants(request))


StoredAssistants = Annotated[AssistantService, Depends(_stored_assistants)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
MessageId = Annotated[int, Query(ge=1, le=BIGINT_MAX)]
CheckpointId = Annotated[StoredText, Path(min_length=1, max_length=100)]
StreamProtocol = Annotated[
    Literal["events", "ui"] | None,
    Query(
        description="`ui`: the Vercel AI SDK UI message stream v1 (what `useChat` reads); "
        "`events`: named Server-Sent Events. Unset: `Accept: text/event-stream` asks for "
        "`events`, anything else gets one JSON reply."
    ),
]


@router.get("/assistants", tags=["assistants"])
async def list_assistants(request: Request, assistants: StoredAssistants) -> AssistantListOut:
    """What a conversation can be created with: the graphs, then the caller's
    own assistants (newest first), each a configuration of one of the graphs."""
    graphs = {a.id: a for a in _assistants(request).registry}
    mine = [
        AssistantOut(
            id=str(a.assistant_id),
            name=a.name,
            description=a.description or graphs[a.graph_id].description,
            uses_tools=graphs[a.graph_id].uses_tools,
            graph_id=a.graph_id,
            stored=True,
        )
        for a in await assistants.mine()
        # One of a graph this process did not load cannot run here (a conversation refuses it).
        if a.graph_id in graphs
    ]
    shared = [
        AssistantOut(id=a.id, name=a.name, description=a.description, uses_tools=a.uses_tools, graph_id=a.id)
        for a in graphs.values()
    ]
    return AssistantListOut(items=[*shared, *mine])


@router.post("/conversations", status_code=status.HTTP_201_CREATED, responses=error_responses(404))
async def create_conversation(
    body: ConversationCreate, service: Service, assistants: StoredAssistants
) -> ConversationOut:
    made = await create_conversation_with(service, assistants, body.title, body.assistant_id)
    return ConversationOut.model_validate(made)


@router.get("/conversations")
async def list_conversations(
    service: Service,
    limit: Limit = 20,
    cursor: Annotated[StoredText | None, Query(max_length=512)] = None,
    archived: ArchivedFilter = "false",
) -> ConversationPageOut:
    page = await service.list(archived, limit, cursor)
    items = [ConversationOut.model_validate(c) for c in page.items]
    return ConversationPageOut(items=items, next_cursor=page.next_cursor, total=page.total)


@router.get("/conversations/{conversation_id}", responses=error_responses(404))
async def get_conversation(conversation_id: uuid.UUID, service: Service) -> ConversationOut:
    return ConversationOut.model_validate(await service.get(conversation_id))


@router.patch("/conversations/{conversation_id}", responses=error_responses(404, 409))
async def update_conversation(
    conversation_id: uuid.UUID, body: ConversationUpdate, service: Service, assistants: StoredAssistants
) -> ConversationOut:
    if body.assistant_id is not None:
        await choose_assistant(service, assistants, conversation_id, body.assistant_id)
    updated = await service.update(conversation_id, title=body.title, archived=body.archived)
    return ConversationOut.model_validate(updated)


@router.delete(
    "/conversations/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_conversation(conversation_id: uuid.UUID, service: Service) -> Response:
    await service.delete(conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/conversations/{conversation_id}/fork",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404),
)
async def fork_conversation(
    conversation_id: uuid.UUID, service: Service, body: ForkIn | None = None
) -> ConversationOut:
    copy = await fork(service, conversation_id, body.checkpoint_id if body else None)
    return ConversationOut.model_validate(copy)


STREAM_RESPONSE: dict[str, Any] = {
    "content": {
        EVENT_STREAM: {
            # Each Server-Sent Event, as a client parses it off the stream.
            "schema": {
                "type": "object",
                "description": "stream=events: token/message/done/error events, each "
                "`data` a JSON object; stream=ui: AI SDK UI message stream v1 frames "
                "(unnamed events, `data` a JSON part), then `data: [DONE]`",
                "properties": {
                    "event": {"type": "string"},
                    "data": {"type": "string"},
                    "id": {"type": "string"},
                },
                "required": ["data"],
            }
        }
    }
}


@router.post(
    "/conversations/{conversation_id}/messages",
    responses={
        **error_responses(404, 409, 413, 502),
        200: STREAM_RESPONSE,
    },
)
async def send_message(
    conversation_id: uuid.UUID,
    body: MessageIn,
    request: Request,
    user: RunCaller,
    *,
    stream: StreamProtocol = None,
) -> Any:
    """Run the agent on a message (`content`), or resume it from the interrupt
    it waits at (`resume`): one JSON reply, or a stream of the run.

    `stream=events` (or `Accept: text/event-stream`): events `message` (the
    stored user message), `token`..., `tool-call`, `tool-result`, `message`
    (the reply), `interrupt`, then `done`, or `error` in their place.
    `stream=ui`: the AI SDK UI message stream, with the header
    `x-vercel-ai-ui-message-stream: v1`. A message while the agent waits for
    an answer is 409 InterruptPending; a resume with nothing waiting is 409
    NoInterruptPending. The run has the configuration of the user's assistant
    the conversation keeps, under the message's `config` and `context`."""
    runner: ChatRunner = request.app.state.chat_runner
    turns = ChatTurns(request.app.state.sessionmaker, user.id, _assistants(request), runner)
    run = await turns.start(conversation_id, body)
    if stream is not None or EVENT_STREAM in request.headers.get("accept", ""):
        return _stream_response(request, run.run_id, stream or "events")
    result = await runner.result(run.run_id)
    return ChatReplyOut(
        run_id=run.run_id,
        status=result.status,
        user_message=MessageOut.model_validate(result.user_message) if result.user_message else None,
        assistant_message=MessageOut.model_validate(result.reply) if result.reply else None,
        interrupts=[MessageOut.model_validate(m) for m in result.interrupts],
    )


def _stream_response(request: Request, run_id: uuid.UUID, protocol: str, after: int = 0) -> StreamingResponse:
    """The run's events from the one after `after`, in `protocol`, with heartbeats."""
    runner: ChatRunner = request.app.state.chat_runner
    every = request.app.state.stream_heartbeat
    if protocol == "ui":
        # The encoder reads the run from its start; frames go out after `after`.
        frames = ui_message_stream(runner.follow(run_id), after)
        headers = {**STREAM_HEADERS, **UI_MESSAGE_STREAM_HEADER}
    else:
        frames = event_stream(runner.follow(run_id, after))
        headers = STREAM_HEADERS
    return StreamingResponse(with_heartbeats(frames, every), media_type=EVENT_STREAM, headers=headers)


@router.get(
    "/conversations/{conversation_id}/stream",
    response_class=StreamingResponse,
    responses={
        **error_responses(404),
        200: STREAM_RESPONSE,
        204: {"description": "No run is active in the conversation."},
    },
)
async def stream_active_run(
    conversation_id: uuid.UUID,
    *,
    request: Request,
    runs: Runs,
    stream: Annotated[Literal["events", "ui"], Query()] = "ui",
    last_event_id: LastEventId = 0,
) -> Response:
    """Join the conversation's active run: its stream from its start (the
    AI SDK's `resume: true` reconnect URL, `{api}/{chatId}/stream`), or
    from `Last-Event-ID`; 204 when no run is active."""
    run = await runs.active(conversation_id)
    if run is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return _stream_response(request, run.run_id, stream, last_event_id)


@router.get("/conversations/{conversation_id}/runs/{run_id}", responses=error_responses(404))
async def get_run(conversation_id: uuid.UUID, run_id: uuid.UUID, runs: Runs) -> RunOut:
    return RunOut.model_validate(await runs.get(conversation_id, run_id))


@router.get(
    "/conversations/{conversation_id}/runs/{run_id}/stream",
    response_class=StreamingResponse,
    responses={**error_responses(404), 200: STREAM_RESPONSE},
)
async def stream_run(
    conversation_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    request: Request,
    runs: Runs,
    stream: Annotated[Literal["events", "ui"], Query()] = "events",
    last_event_id: LastEventId = 0,
) -> StreamingResponse:
    """Any run's events, live or ended, from the one after `Last-Event-ID`
    (from any process: the events are stored as the run goes)."""
    await runs.get(conversation_id, run_id)
    return _stream_response(request, run_id, stream, last_event_id)


@router.post(
    "/conversations/{conversation_id}/runs/{run_id}/cancel",
    responses={
        **error_responses(404, 409),
        202: {"description": "Asked; the run stops within a poll interval (`wait=false`)."},
        204: {"description": "Rolled back and gone (`action=rollback`, `wait=true`)."},
    },
)
async def cancel_run(
    conversation_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    request: Request,
    user: RunCaller,
    runs: Runs,
    action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt",
    wait: bool = False,
) -> Response:
    """Stop a pending or running run, from any process: `interrupt` keeps
    the steps it completed, `rollback` removes every trace of it. With
    `wait`, answer once it has stopped: the run, or 204 after a rollback."""
    runner: ChatRunner = request.app.state.chat_runner
    run = await runner.cancel(user.id, conversation_id, run_id, CancelAction(action))
    if not wait:
        return JSONResponse(RunOut.model_validate(run).model_dump(mode="json"), status_code=202)
    async for _ in runner.follow(run_id):
        pass
    if action == "rollback":
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    stopped = await runs.get(conversation_id, run_id)
    return JSONResponse(RunOut.model_validate(stopped).model_dump(mode="json"))


@router.get("/conversations/{conversation_id}/messages", responses=error_responses(404))
async def list_messages(
    conversation_id: uuid.UUID,
    service: Service,
    *,
    limit: Limit = 50,
    before: MessageId | None = None,
    after: MessageId | None = None,
    around: MessageId | None = None,
) -> MessagePageOut:
    """The newest messages, the page before `before` or after `after`, or the
    page with message `around` in its middle (a search result opened)."""
    page = await service.history(conversation_id, limit, before=before, after=after, around=around)
    return MessagePageOut(
        items=[MessageOut.model_validate(m) for m in page.items],
        next_before=page.next_before,
        next_after=page.next_after,
    )


@router.get("/conversations/{conversation_id}/runs", responses=error_responses(404))
async def list_runs(conversation_id: uuid.UUID, runs: Runs) -> RunListOut:
    return RunListOut(items=[RunOut.model_validate(r) for r in await runs.of_conversation(conversation_id)])


@router.put("/runs/{run_id}/feedback", tags=["runs"], responses=error_responses(404))
async def set_feedback(run_id: uuid.UUID, body: FeedbackIn, runs: Runs) -> RunOut:
    return RunOut.model_validate(await runs.set_feedback(run_id, body.sentiment, body.comment))


@router.get("/conversations/{conversation_id}/checkpoints", responses=error_responses(404))
async def list_checkpoints(
    conversation_id: uuid.UUID,
    service: Service,
    limit: Limit = 50,
    before: Annotated[StoredText | None, Query(min_length=1, max_length=100)] = None,
) -> CheckpointPageOut:
    page = await service.checkpoints(conversation_id, limit, before)
    items = [
        CheckpointOut(
            id=c.checkpoint_id,
            parent_id=c.parent_checkpoint_id,
            created_at=c.created_at,
            step=c.metadata_.get("step"),
            source=c.metadata_.get("source"),
        )
        for c in page.items
    ]
    return CheckpointPageOut(items=items, next_before=page.next_before)


def _state_message(message: BaseMessage) -> StateMessageOut:
    calls = message_metadata(message).get("tool_calls", [])
    return StateMessageOut(id=message.id, role=role_of(message), content=message.content, tool_calls=calls)


@router.get("/conversations/{conversation_id}/checkpoints/{checkpoint_id}", responses=error_responses(404))
async def get_checkpoint_state(
    conversation_id: uuid.UUID, checkpoint_id: CheckpointId, request: Request, service: Service
) -> CheckpointStateOut:
    conversation = await service.require_checkpoint(conversation_id, checkpoint_id)
    agent = _assistants(request)[conversation.assistant_id]
    values = await agent.state_at(conversation.thread_id, checkpoint_id)
    if values is None:
        raise CheckpointNotFound(checkpoint_id)
    messages = [_state_message(m) for m in values.pop("messages", [])]
    subgraphs = [
        SubgraphStateOut(
            namespace=namespace,
            checkpoint_id=sub_id,
            values=jsonable(await agent.saved_values(conversation.thread_id, namespace, sub_id)),
        )
        for namespace, sub_id in await service.subgraph_checkpoints(conversation, checkpoint_id)
    ]
    return CheckpointStateOut(
        checkpoint_id=checkpoint_id, messages=messages, values=jsonable(values), subgraphs=subgraphs
    )
