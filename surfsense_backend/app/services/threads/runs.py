"""Runs of a thread as the Agent Server API names them, on the chat run engine:
the same queue, leases, stored events and cancels as the chat API's runs."""

import uuid
from dataclasses import dataclass
from typing import Any, cast

from langgraph.graph import END
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents.registry import CompiledAssistants
from app.db import session_scope
from app.errors import AppError, Conflict, InvalidRequest
from app.models import CancelAction, Conversation, MultitaskStrategy, RunStatus, ThreadRun
from app.schemas.langgraph import RunCreateIn
from app.services.assistants.service import AssistantService, ResolvedAssistant
from app.services.conversations.errors import RunNotFound
from app.services.conversations.repository import CheckpointRepository, ConversationRepository
from app.services.persistence import CheckpointNotFound, ConversationNotFound
from app.services.runs.admission import Admitted
from app.services.runs.events import (
    ChatEvent,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    StreamChunk,
    is_final,
)
from app.services.runs.repository import RunRepository
from app.services.runs.run_config import merged_config
from app.services.runs.runner import ChatRunner
from app.services.runs.spec import RunSpec
from app.services.threads.service import ThreadService, parse_thread_id
from app.services.threads.state import interrupt_json, values_json

# The Agent Server's names for a run's status.
RUN_STATUS = {
    RunStatus.PENDING: "pending",
    RunStatus.RUNNING: "running",
    RunStatus.SUCCEEDED: "success",
    RunStatus.FAILED: "error",
    RunStatus.INTERRUPTED: "interrupted",
    RunStatus.CANCELLED: "interrupted",
}


class NotServed(AppError):
    """A feature of the Agent Server API this server does not implement: a
    request that asks for it is refused, never served without it. 422, not
    501: the SDKs retry a 5xx (@langchain/langgraph-sdk with backoff, five
    times), and a refusal no retry changes should fail fast."""

    status_code = 422

    def __init__(self, feature: str) -> None:
        super().__init__(f"{feature} is not served by this server yet.")


class OtherGraph(Conflict):
    def __init__(self, thread_id: object, graph_id: str) -> None:
        super().__init__(
            f"Thread {thread_id} runs the {graph_id} graph; a run of another graph needs a new thread."
        )


class RunStillActive(Conflict):
    def __init__(self, run_id: object) -> None:
        super().__init__(f"Run {run_id} is pending or running: cancel it before deleting it.")


def run_json(run: ThreadRun, assistant_id: str | None = None) -> dict[str, Any]:
    """A run as the Agent Server shows it: of the assistant it was asked for
    (a user's, or its graph's); `assistant_id`: its thread's graph, for a run
    stored before runs kept their spec."""
    kwargs = run.kwargs or {}
    return {
        "run_id": str(run.run_id),
        "thread_id": str(run.conversation_id),
        "assistant_id": kwargs.get("stored_assistant") or kwargs.get("assistant_id", assistant_id),
        "created_at": run.started_at,
        "updated_at": run.finished_at or run.started_at,
        "status": RUN_STATUS[run.status],
        "metadata": kwargs.get("metadata", {}),
        "multitask_strategy": kwargs.get("multitask_strategy", "reject"),
        "kwargs": kwargs,
    }


class ThreadRuns:
    def __init__(
        self, session: AsyncSession, user_id: uuid.UUID, agents: CompiledAssistants, runner: ChatRunner
    ) -> None:
        self.session = session
        self.user_id = user_id
        self.agents = agents
        self.runner = runner
        self.threads = ThreadService(session, user_id, agents)
        self.assistants = AssistantService(session, user_id, agents)

    async def thread(self, thread_id: str) -> Conversation:
        found = parse_thread_id(thread_id)
        repository = ConversationRepository(self.session, self.user_id)
        conversation = await repository.get(found) if found is not None else None
        if conversation is None:
            raise ConversationNotFound(thread_id)
        return conversation

    async def prepare(self, thread_id: str, body: RunCreateIn) -> tuple[Conversation, RunSpec]:
        """The thread a run goes on (made by `if_not_exists`, taking the run's
        graph if it has none yet) and the run's spec, checked against its graph."""
        return await self._prepare(thread_id, body, await self.assistants.resolve(body.assistant_id))

    async def _prepare(
        self, thread_id: str, body: RunCreateIn, assistant: ResolvedAssistant
    ) -> tuple[Conversation, RunSpec]:
        """`prepare`, for the run's assistant: its graph, with its config and
        context under the run's."""
        refuse_unserved(body)
        if body.if_not_exists == "create" and parse_thread_id(thread_id) is not None:
            await self.threads.create(thread_id, {"graph_id": assistant.graph_id}, "do_nothing")
        conversation = await self.thread(thread_id)
        await self._use_graph(conversation, assistant.graph_id)
        checkpoint_id = await self._start_at(conversation, body)
        self._check_goto(conversation, body.command.goto if body.command else None)
        config, context = merged_config(body.config, body.context, assistant.config, assistant.context)
        spec = RunSpec(
            input=body.input,
            resume=body.command.resume if body.command else None,
            update=body.command.update if body.command else None,
            goto=body.command.goto if body.command else None,
            stream_mode=body.modes,
            stream_subgraphs=body.stream_subgraphs,
            metadata=body.metadata or {},
            multitask_strategy=MultitaskStrategy(body.multitask_strategy),
            interrupt_before=self._nodes(conversation, body.interrupt_before),
            interrupt_after=self._nodes(conversation, body.interrupt_after),
            checkpoint_id=checkpoint_id,
            # New input at an interrupt runs, as on the Agent Server: LangGraph drops the interrupt.
            past_interrupts=True,
            config=config,
            context=context,
            stored_assistant=assistant.stored_id,
        )
        return conversation, spec

    async def prepare_stateless(self, body: RunCreateIn) -> tuple[Conversation, RunSpec]:
        """A run on a thread of its own, made for it (the caller deletes it
        when the run ends, unless `on_completion` is `keep`)."""
        if body.named_checkpoint:
            raise InvalidRequest(
                "A stateless run starts on a new thread: it has no checkpoint to start from."
            )
        assistant = await self.assistants.resolve(body.assistant_id)
        made = await self.threads.create(None, {"graph_id": assistant.graph_id}, "raise")
        return await self._prepare(made["thread_id"], body, assistant)

    async def _use_graph(self, conversation: Conversation, assistant_id: str) -> None:
        """A thread runs one graph: a fresh one (no run yet) takes the run's."""
        if assistant_id == conversation.assistant_id:
            return
        self.agents.registry.get(assistant_id)  # UnknownAssistant (422) names the known ones
        if await RunRepository(self.session).has_any(conversation.id) or conversation.message_count:
            raise OtherGraph(conversation.id, conversation.assistant_id)
        conversation.assistant_id = assistant_id
        await self.session.flush()

    async def _start_at(self, conversation: Conversation, body: RunCreateIn) -> str | None:
        """The earlier checkpoint of the thread a run starts from (to regenerate,
        or edit a message), or None: its latest, named (as useStream does) or not."""
        named = body.named_checkpoint
        if body.checkpoint is not None and body.checkpoint.checkpoint_ns:
            raise NotServed("A run from a subgraph's checkpoint")
        if named is None or named == await self.threads.head(conversation):
            return None
        if not await CheckpointRepository(self.session).exists(conversation.id, named):
            raise CheckpointNotFound(named)
        return named

    def _check_goto(self, conversation: Conversation, goto: Any) -> None:
        """A command sends the graph to nodes it has, by name (not `*`), or to its end."""
        if goto == "*":
            raise InvalidRequest("A command goes to nodes by name, not to `*`.")
        named = goto if isinstance(goto, list) else [] if goto is None else [goto]
        self._nodes(conversation, [name for name in named if name != END] or None)

    def _nodes(self, conversation: Conversation, named: Any) -> list[str] | str | None:
        """Node names the graph has, as a list, or `*` (all of them); InvalidRequest otherwise."""
        if named is None or named == "*":
            return cast(str | None, named)
        names = named if isinstance(named, list) else [named]
        nodes = self.agents[conversation.assistant_id].graph.nodes
        for name in names:
            if not isinstance(name, str) or name not in nodes:
                raise InvalidRequest(f"The {conversation.assistant_id} graph has no node {name!r}.")
        return names

    async def get(self, thread_id: str, run_id: uuid.UUID) -> tuple[ThreadRun, Conversation]:
        conversation = await self.thread(thread_id)
        run = await RunRepository(self.session).get_for_user(run_id, self.user_id)
        if run is None or run.conversation_id != conversation.id:
            raise RunNotFound(run_id)
        return run, conversation

    async def list(self, thread_id: str, limit: int, offset: int, status: str | None) -> list[ThreadRun]:
        conversation = await self.thread(thread_id)
        ours = None if status is None else [name for name, theirs in RUN_STATUS.items() if theirs == status]
        return list(await RunRepository(self.session).for_conversation(conversation.id, ours, limit, offset))

    async def delete(self, thread_id: str, run_id: uuid.UUID) -> None:
        """The run's record and events; the thread's state and history stay."""
        run, _ = await self.get(thread_id, run_id)
        if run.status.active:
            raise RunStillActive(run_id)
        await RunRepository(self.session).forget(run.run_id)

    async def read_back(self, run: ThreadRun, *, interrupted: bool) -> dict[str, Any]:
        """The thread's values from the graph's state: a run that did not stream
        them (one the chat API started, say). Its graph is its thread's, whichever
        API started it."""
        conversation = await self.thread(str(run.conversation_id))
        agent = self.agents[conversation.assistant_id]
        snapshot = await agent.snapshot(str(run.conversation_id))
        values: dict[str, Any] = values_json(snapshot) if isinstance(snapshot.values, dict) else {}
        if interrupted:
            values["__interrupt__"] = [interrupt_json(i) for i in snapshot.interrupts]
        return values


class ThreadRunControl:
    """Starting, waiting on and cancelling a thread's runs, each in units of
    work of its own: no transaction is held while a run goes on."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        user_id: uuid.UUID,
        agents: CompiledAssistants,
        runner: ChatRunner,
    ) -> None:
        self.sessions = sessions
        self.user_id = user_id
        self.agents = agents
        self.runner = runner

    def _runs(self, session: AsyncSession) -> ThreadRuns:
        return ThreadRuns(session, self.user_id, self.agents, self.runner)

    async def start(self, thread_id: str | None, body: RunCreateIn) -> ThreadRun:
        """The thread prepared and the run admitted (started now, queued or
        refused by its multitask strategy) in one unit of work; `thread_id`
        None: a stateless run, on a thread made for it."""
        async with session_scope(self.sessions) as session:
            admitted = await self.admit(session, thread_id, body)
        self.runner.go(admitted)
        return admitted.run

    async def start_stateless(self, bodies: list[RunCreateIn]) -> list[ThreadRun]:
        """Background stateless runs, each on a thread of its own, admitted in
        one unit of work (one refused leaves none stored); each thread is
        deleted once its run ended, unless `on_completion` keeps it."""
        async with session_scope(self.sessions) as session:
            admitted = [await self.admit(session, None, body) for body in bodies]
        for each, body in zip(admitted, bodies, strict=True):
            self.runner.go(each)
            if body.on_completion == "delete":
                self.forget_when_ended(each.run)
        return [each.run for each in admitted]

    async def admit(self, session: AsyncSession, thread_id: str | None, body: RunCreateIn) -> Admitted:
        """`start`, in the caller's unit of work (a cron firing): the caller
        commits, then calls the runner's `go`."""
        runs = self._runs(session)
        if thread_id is None:
            conversation, spec = await runs.prepare_stateless(body)
        else:
            conversation, spec = await runs.prepare(thread_id, body)
        return await self.runner.admit(session, self.user_id, conversation.id, spec)

    def forget_when_ended(self, run: ThreadRun) -> None:
        """A stateless run's thread, deleted once the run ended, wherever it ran."""
        self.runner.when_ended(
            run.run_id, lambda: forget_thread(self.sessions, self.user_id, run.conversation_id)
        )

    async def get(self, thread_id: str, run_id: uuid.UUID) -> ThreadRun:
        async with session_scope(self.sessions) as session:
            run, _ = await self._runs(session).get(thread_id, run_id)
        return run

    async def outcome(self, run: ThreadRun) -> dict[str, Any]:
        """What `wait` and `join` answer once the run ended, wherever it ran:
        the thread's values (the last its stream carried, else read back, in
        a unit of work after the wait), with `__interrupt__` when the graph
        waits, or `__error__`."""
        ended = await _followed(self.runner, run.run_id)
        final = ended.final
        if isinstance(final, RunFailed):
            return {"__error__": {"error": final.kind, "message": final.detail}}
        if isinstance(final, RunCancelled):
            cancelled = f"The run was cancelled ({final.action})."
            return {"__error__": {"error": "RunCancelled", "message": cancelled}}
        interrupted = isinstance(final, RunInterrupted)
        if ended.values is not None:
            values = dict(ended.values)
            if interrupted:
                values["__interrupt__"] = ended.asked or []
            return values
        async with session_scope(self.sessions) as session:
            return await self._runs(session).read_back(run, interrupted=interrupted)

    async def cancel(self, thread_id: str, run_id: uuid.UUID, action: CancelAction) -> ThreadRun:
        """Stop a pending or running run of the caller's thread, from any process."""
        run = await self.get(thread_id, run_id)
        return await self.runner.cancel(self.user_id, run.conversation_id, run_id, action)


@dataclass
class _Ended:
    final: ChatEvent
    # The root graph's last values, and the interrupt it stopped at, as its stream carried them.
    values: dict[str, Any] | None = None
    asked: list[Any] | None = None


async def _followed(runner: ChatRunner, run_id: uuid.UUID) -> _Ended:
    """Follow a run to its end, keeping what its `values` stream said last."""
    values = asked = None
    async for _, event in runner.follow(run_id):
        if isinstance(event, StreamChunk) and event.mode == "values" and not event.ns:
            data = event.data if isinstance(event.data, dict) else {}
            if "__interrupt__" in data:
                # Parallel branches' interrupts come a chunk each: the run stopped at all of them.
                asked = [*(asked or []), *data["__interrupt__"]]
            else:
                values = data
        if is_final(event):
            return _Ended(event, values, asked)
    raise RuntimeError("a run's events always end with its outcome")


def refuse_unserved(body: RunCreateIn) -> None:
    """Features a client asks for by sending them, not served yet: refused, never ignored."""
    unserved = {
        "webhook": body.webhook,
        "after_seconds (a delayed run)": body.after_seconds,
    }
    for feature, asked in unserved.items():
        if asked:
            raise NotServed(feature)


async def forget_thread(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID, thread_id: uuid.UUID
) -> None:
    """A stateless run's thread, deleted once its run ended."""
    async with session_scope(sessions) as session:
        await ConversationRepository(session, user_id).delete(thread_id)
