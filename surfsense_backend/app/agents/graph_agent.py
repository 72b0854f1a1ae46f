"""Running any compiled LangGraph graph for a conversation, as a stream of what
a person sees: tokens, tool calls and their results, the messages each step
stored, and how the run ended (an answer, or an interrupt waiting for them).

The graph's own stream is read in three modes: `messages` for tokens,
`updates` for the messages each node returned (and `__interrupt__`), and
`checkpoints` for the root graph's checkpoint after each step, which is
where the step's messages are durable.
"""

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast, runtime_checkable

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    ToolMessage,
    convert_to_messages,
)
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot, StreamMode

from app.agents.context import AgentContext, AgentServices, StoreFor
from app.agents.graph_source import AnyGraph, GraphFactory
from app.agents.run_context import ContextSchema, InvalidContext

Graph = CompiledStateGraph[Any, Any, Any, Any]
NOT_RUN = "Not run: the conversation went on without it."


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class ToolCalled:
    call_id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class ToolFinished:
    call_id: str
    name: str
    args: dict[str, Any]
    content: str
    # LangChain's ToolMessage status: "success" or "error".
    status: str


@dataclass(frozen=True)
class StepSaved:
    """The root graph saved a checkpoint; `messages` are those its step added,
    and `args` the arguments of the calls its tool results answer (a result
    does not carry them; the call may be from an earlier run). `source` is
    LangGraph's: `input` for the checkpoint a run's input starts from (its
    state does not hold the input yet: the next one does), `loop` for a step's."""

    checkpoint_id: str
    messages: list[BaseMessage]
    args: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "loop"


@dataclass(frozen=True)
class PendingInterrupt:
    id: str
    value: Any


@dataclass(frozen=True)
class Finished:
    checkpoint_id: str
    # The run's last answer without tool calls, if it gave one.
    reply: AIMessage | None


@dataclass(frozen=True)
class Paused:
    """The graph called interrupt(): it waits at `checkpoint_id` for a resume."""

    checkpoint_id: str
    interrupts: list[PendingInterrupt]


@dataclass(frozen=True)
class GraphChunk:
    """A part of the graph's own stream, in a mode a client asked for: `ns`
    is the subgraph's namespace (empty for the root graph)."""

    mode: str
    ns: tuple[str, ...]
    payload: Any


AgentEvent = Token | ToolCalled | ToolFinished | StepSaved | Finished | Paused | GraphChunk
# The modes the run itself reads: tokens, what each node returned, each step's checkpoint.
OWN_MODES = ("messages", "updates", "checkpoints")
# Not a mode of the graph's stream: LangChain's events (astream_events v2), asked as one.
EVENTS = "events"


class KeptRead(Protocol):
    """A read of a thread's state a saver kept, to answer a run's first read."""

    def spend(self) -> None:
        """Answer nothing more."""


@runtime_checkable
class RecordingSaver(Protocol):
    """A saver that keeps the read made as a run is admitted, and answers the
    run's own first read of that state from it (the shared saver does:
    `services/persistence/primed_reads.py`)."""

    def recording(self, thread_id: str, checkpoint_id: str | None) -> AbstractContextManager[KeptRead]:
        """Keep what it reads of the thread's root state at `checkpoint_id` (None: latest) in the block."""

    def prime(self, read: KeptRead) -> None:
        """Answer the calling task's next read of `read`'s state from it, once."""


@dataclass(frozen=True)
class Waiting:
    """What a thread's latest state waits for: interrupts to answer, and tool
    calls that have no result (a fork, or a crash, between a call and its
    tool). `calls` are the tool calls its state holds: a resumed run reports
    results of calls made before it started."""

    interrupts: list[PendingInterrupt]
    calls: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    # The latest checkpoint, where a resumed run starts (its stream shows it again).
    checkpoint_id: str | None = None
    # The ids of the messages its state holds: one a node writes again is a revision (an edited call).
    message_ids: frozenset[str] = frozenset()
    # What the saver read to tell, kept to answer the run's own first read of that state.
    read: KeptRead | None = field(default=None, compare=False, repr=False)


def _update_messages(update: Any) -> list[BaseMessage]:
    """The messages a node returned: a dict's `messages`, or a list of such dicts."""
    updates = update if isinstance(update, list) else [update]
    found: list[BaseMessage] = []
    for item in updates:
        if isinstance(item, dict) and item.get("messages"):
            written = item["messages"]
            found.extend(convert_to_messages(written if isinstance(written, list) else [written]))
    return [m for m in found if not isinstance(m, RemoveMessage | HumanMessage)]


def unanswered_calls(messages: list[BaseMessage]) -> list[str]:
    """Ids of the tool calls of the state's last AI message that have no result."""
    last = next((i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], AIMessage)), None)
    if last is None:
        return []
    answered = {m.tool_call_id for m in messages[last + 1 :] if isinstance(m, ToolMessage)}
    calls = cast(AIMessage, messages[last]).tool_calls
    return [c["id"] for c in calls if c["id"] and c["id"] not in answered]


def not_run(call_id: str, name: str) -> ToolMessage:
    """The result of a call the conversation went past: every model API needs one."""
    return ToolMessage(NOT_RUN, tool_call_id=call_id, name=name, status="error")


def tool_calls_of(messages: Iterable[BaseMessage]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        call["id"]: (call["name"], call["args"])
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["id"]
    }


class _Translator:
    """Folds the graph's stream into AgentEvents; one per run."""

    def __init__(self, waiting: Waiting | None) -> None:
        self.calls = dict(waiting.calls) if waiting else {}
        self.step: list[BaseMessage] = []
        # Messages reported already: by this run, or held by the state it started from.
        self.seen: set[str] = set(waiting.message_ids) if waiting else set()
        self.checkpoint_id: str | None = None
        self.reply: AIMessage | None = None
        self.interrupts: list[PendingInterrupt] = []
        # An `__interrupt__` seen: the graph stopped, at interrupt() or at a
        # node the run was asked to stop before or after (with no question).
        self.stopped = False

    def read(self, mode: str, payload: Any) -> list[AgentEvent]:
        if mode == "messages":
            chunk, _ = payload
            return [Token(chunk.text)] if isinstance(chunk, AIMessageChunk) and chunk.text else []
        if mode == "updates":
            return [event for node, update in payload.items() for event in self._update(node, update)]
        self.checkpoint_id = payload["config"]["configurable"]["checkpoint_id"]
        saved, self.step = self.step, []
        args = {
            m.tool_call_id: self.calls.get(m.tool_call_id, ("", {}))[1]
            for m in saved
            if isinstance(m, ToolMessage)
        }
        return [StepSaved(self.checkpoint_id, saved, args, payload["metadata"].get("source", "loop"))]

    def _update(self, node: str, update: Any) -> list[AgentEvent]:
        if node == "__interrupt__":
            self.stopped = True
            self.interrupts.extend(PendingInterrupt(i.id, i.value) for i in update)
            return []
        events: list[AgentEvent] = []
        for message in _update_messages(update):
            # A subgraph may hand back messages the run already reported, and a
            # node may revise one the state held (an edited tool call): the
            # calls' arguments are the revision's, the message is not new.
            if message.id is not None and message.id in self.seen:
                if isinstance(message, AIMessage):
                    self.calls.update(tool_calls_of([message]))
                continue
            if message.id is not None:
                self.seen.add(message.id)
            self.step.append(message)
            events.extend(self._message(message))
        return events

    def _message(self, message: BaseMessage) -> list[AgentEvent]:
        if isinstance(message, AIMessage):
            self.calls.update(tool_calls_of([message]))
            self.reply = None if message.tool_calls else message
            return [ToolCalled(c["id"] or "", c["name"], c["args"]) for c in message.tool_calls]
        if isinstance(message, ToolMessage):
            name, args = self.calls.get(message.tool_call_id, (message.name or "", {}))
            return [ToolFinished(message.tool_call_id, name, args, message.text, message.status)]
        return []

    def outcome(self) -> AgentEvent:
        if self.checkpoint_id is None:
            raise RuntimeError("the graph saved no checkpoint")
        if self.stopped:
            return Paused(self.checkpoint_id, self.interrupts)
        return Finished(self.checkpoint_id, self.reply)


def _plain(graph: AnyGraph, graph_input: Any, config: RunnableConfig, **kwargs: Any) -> AsyncIterator[Any]:
    return graph.astream(graph_input, config, **kwargs)


async def _with_events(
    graph: AnyGraph, graph_input: Any, config: RunnableConfig, **kwargs: Any
) -> AsyncIterator[Any]:
    """The graph's stream as `astream` gives it, and every other event of
    LangChain's `astream_events` (v2) as a GraphChunk in mode `events`, as
    the Agent Server streams them: the root run's `on_chain_stream` events
    carry the stream's own items; the first event is the root run's start."""
    root = None
    async for event in graph.astream_events(graph_input, config, version="v2", **kwargs):
        root = root or event["run_id"]
        if event["event"] == "on_chain_stream" and event["run_id"] == root:
            yield event["data"]["chunk"]
        elif "langsmith:hidden" not in (event.get("tags") or ()):
            yield GraphChunk(EVENTS, (), event)


class GraphAgent:
    """A graph on the shared saver, run per conversation. A graph made by a
    factory (`factory`) is made again for each run, from the run's config;
    `graph`, made once at start-up, reads its shape and its threads' state."""

    def __init__(
        self,
        assistant_id: str,
        graph: AnyGraph,
        services: AgentServices | None = None,
        factory: GraphFactory | None = None,
        *,
        app_context: bool = False,
        stores: StoreFor | None = None,
    ) -> None:
        self.assistant_id = assistant_id
        # Each run's graph gets the store of the user it runs for.
        self.stores = stores
        self.graph = graph
        # What the app lends the graph's tools, in every run's AgentContext.
        self.services = services
        self.factory = factory
        # An AppGraph's runs get an AgentContext; any other graph's, its client's context.
        self.app_context = app_context
        schema = None if app_context else getattr(graph, "context_schema", None)
        self._context_schema = ContextSchema(assistant_id, schema)

    def client_context(self, given: dict[str, Any] | None, configurable: dict[str, Any]) -> Any:
        """The context a run of this graph gets from its client (`given`, or its
        `configurable`), checked against the graph's schema: InvalidContext (422)
        if the schema refuses it, or the graph takes its context from the app."""
        if self.app_context:
            if given:
                raise InvalidContext(self.assistant_id, "its context is the thread and its user")
            return None
        return self._context_schema.context(given, configurable)

    @asynccontextmanager
    async def _graph_for(self, config: RunnableConfig, context: Any) -> AsyncIterator[AnyGraph]:
        """The graph a run runs: with the store of the run's user (the
        server's `user_id`, never a client's), so `get_store()`,
        `runtime.store` and a node's `store` argument reach theirs alone."""
        user_id = config.get("configurable", {}).get("user_id")
        store = self.stores(str(user_id)) if self.stores is not None and user_id else None
        made = (
            nullcontext(self.graph)
            if self.factory is None
            else self.factory.open(config, context=context, store=store)
        )
        async with made as graph:
            yield graph if store is None else graph.copy(update={"store": store})

    @staticmethod
    def config(
        thread_id: str,
        checkpoint_id: str | None = None,
        checkpoint_ns: str = "",
        base: RunnableConfig | None = None,
    ) -> RunnableConfig:
        """The config a graph runs or reads a thread with: `base` (a run's own
        config: `configurable`, tags, recursion limit...) under the thread's keys."""
        configurable: dict[str, Any] = {
            **(base or {}).get("configurable", {}),
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
        }
        if checkpoint_id is not None:
            configurable["checkpoint_id"] = checkpoint_id
        return {**(base or {}), "configurable": configurable}

    @staticmethod
    def message_input(
        content: str | list[Any], before: list[ToolMessage] | None = None
    ) -> dict[str, list[AnyMessage]]:
        """A new message (text, or content blocks); `before`: results for calls the state left unanswered."""
        return {"messages": [*(before or []), HumanMessage(content=content)]}

    async def run(
        self,
        thread_id: str,
        graph_input: Any,
        *,
        context: Any = None,
        waiting: Waiting | None = None,
        run_id: str | None = None,
        chunks: Sequence[str] = (),
        subgraphs: bool = False,
        stops: tuple[Sequence[str] | None, Sequence[str] | None] = (None, None),
        checkpoint_id: str | None = None,
        config: RunnableConfig | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """Run the graph on `graph_input` (a state update, or a Command that
        resumes); the last event is Finished or Paused. `run_id` goes into
        the metadata of every checkpoint the run saves, in every namespace,
        so `adelete_for_runs` finds them. The graph's stream in the modes
        `chunks` names comes as GraphChunks too, the subgraphs' with `subgraphs`.
        `stops`: the nodes to stop before and after (a Paused with no question).
        `checkpoint_id`: an earlier checkpoint to start from, instead of the
        latest (LangGraph forks the thread there). `config`: the run's own
        (RunnableConfig); a factory's graph is made from it, for this run."""
        translator = _Translator(waiting)
        if isinstance(context, AgentContext) and context.services is None:
            context = replace(context, services=self.services)
        run_config = self.config(thread_id, checkpoint_id, base=config)
        run_config["metadata"] = {
            **run_config.get("metadata", {}),
            "assistant_id": self.assistant_id,
            **({"run_id": run_id} if run_id else {}),
        }
        kept = waiting.read if waiting else None
        saver = self._recording_saver()
        if kept is not None and saver is not None:
            # The state the admission read is the one the graph starts from:
            # nothing writes the thread between the two (one run a conversation).
            saver.prime(kept)
        try:
            async with self._graph_for(run_config, context) as graph:
                modes = list(dict.fromkeys([*OWN_MODES, *(m for m in chunks if m != EVENTS)]))
                stream = (_with_events if EVENTS in chunks else _plain)(
                    graph,
                    graph_input,
                    run_config,
                    context=context,
                    stream_mode=cast(list[StreamMode], modes),
                    subgraphs=subgraphs,
                    interrupt_before=stops[0],
                    interrupt_after=stops[1],
                )
                async for item in stream:
                    if isinstance(item, GraphChunk):  # one of LangChain's events
                        yield item
                        continue
                    ns, mode, payload = cast(
                        tuple[tuple[str, ...], str, Any], item if subgraphs else ((), *item)
                    )
                    if mode in chunks:
                        yield GraphChunk(mode, ns, payload)
                    # Tokens from any graph; a node's return and a checkpoint from the root's.
                    if mode == "messages" or (mode in OWN_MODES and not ns):
                        for event in translator.read(mode, payload):
                            yield event
        finally:
            if kept is not None:
                kept.spend()
        yield translator.outcome()

    async def snapshot(
        self, thread_id: str, checkpoint_id: str | None = None, *, subgraphs: bool = False
    ) -> StateSnapshot:
        """The graph's state, latest or at `checkpoint_id` (with its subgraphs')."""
        return await self.graph.aget_state(self.config(thread_id, checkpoint_id), subgraphs=subgraphs)

    async def waiting(self, thread_id: str, checkpoint_id: str | None = None) -> Waiting:
        """What the thread's state (latest, or at `checkpoint_id`) waits for: interrupts to answer."""
        saver = self._recording_saver()
        with saver.recording(thread_id, checkpoint_id) if saver else nullcontext() as read:
            snapshot = await self.snapshot(thread_id, checkpoint_id)
        interrupts = [PendingInterrupt(i.id, i.value) for task in snapshot.tasks for i in task.interrupts]
        messages = snapshot.values.get("messages", []) if isinstance(snapshot.values, dict) else []
        checkpoint_id = snapshot.config.get("configurable", {}).get("checkpoint_id")
        # New input starts a step of its own and drops what tasks wrote from
        # the latest checkpoint (a fork, or a crash before the next one): the
        # results they hold do not answer a call for it.
        pending = {
            m.tool_call_id
            for task in snapshot.tasks
            if isinstance(task.result, dict)
            for m in _update_messages(task.result)
            if isinstance(m, ToolMessage)
        }
        unanswered = unanswered_calls(
            [m for m in messages if not (isinstance(m, ToolMessage) and m.tool_call_id in pending)]
        )
        ids = frozenset(m.id for m in messages if m.id is not None)
        return Waiting(interrupts, tool_calls_of(messages), unanswered, checkpoint_id, ids, read)

    def _recording_saver(self) -> RecordingSaver | None:
        saver = self.graph.checkpointer
        return saver if isinstance(saver, RecordingSaver) else None

    @staticmethod
    def resume(value: Any) -> Command[Any]:
        return Command(resume=value)

    async def state_at(self, thread_id: str, checkpoint_id: str) -> dict[str, Any] | None:
        """The graph's state at a checkpoint (DeltaChannel history rebuilt), or None."""
        snapshot = await self.snapshot(thread_id, checkpoint_id)
        if not snapshot.values and snapshot.created_at is None:
            return None
        return dict(snapshot.values)

    async def values_at(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> dict[str, Any]:
        """Channel values at a checkpoint, for retention to snapshot; {} outside the root graph."""
        if checkpoint_ns:
            return {}
        return await self.state_at(thread_id, checkpoint_id) or {}

    async def forget_runs(self, run_ids: list[str]) -> None:
        """Delete the checkpoints (every namespace) and writes the runs saved: a rollback."""
        saver = self.graph.checkpointer
        if saver is not None and not isinstance(saver, bool):
            await saver.adelete_for_runs(run_ids)

    async def keep_latest(self, thread_ids: list[str]) -> None:
        """Delete every checkpoint of the threads but the latest (and what its state is rebuilt from)."""
        saver = self.graph.checkpointer
        if saver is not None and not isinstance(saver, bool):
            await saver.aprune(thread_ids, strategy="keep_latest")

    async def saved_values(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> dict[str, Any]:
        """The channel values a checkpoint stores itself, in any namespace (a
        subgraph's state, which the root graph's snapshot does not hold)."""
        saver = self.graph.checkpointer
        if saver is None or isinstance(saver, bool):
            return {}
        found = await saver.aget_tuple(self.config(thread_id, checkpoint_id, checkpoint_ns))
        return dict(found.checkpoint["channel_values"]) if found else {}
