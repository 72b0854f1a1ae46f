"""The chat agent: a LangGraph graph compiled with the shared durable saver.

Messages live in a DeltaChannel: each checkpoint stores only the messages a
step added (and a full snapshot every `SNAPSHOT_EVERY` updates), so storage
grows with the conversation, not with its square as with a plain reducer.
The state holds a window of the latest messages (decision 0008): the
messages table keeps the whole conversation, and a turn's cost stays flat.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    HumanMessage,
    MessageLikeRepresentation,
    RemoveMessage,
    SystemMessage,
    convert_to_messages,
)
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

SNAPSHOT_EVERY = 50


def _add_message_batches(state: Any, batches: Sequence[Any]) -> Any:
    """Fold a run of writes into the messages, as add_messages one by one would.

    add_messages indexes the whole history on every call, so one call per
    write made replaying a thread's writes cost history x writes. Writes that
    only add or replace messages fold into one call with the same result; a
    write that removes messages is applied on its own, in its place.
    """
    pending: list[MessageLikeRepresentation] = []
    for batch in batches:
        messages: list[MessageLikeRepresentation] = list(
            convert_to_messages(batch if isinstance(batch, list) else [batch])
        )
        if any(isinstance(message, RemoveMessage) for message in messages):
            if pending:
                state, pending = add_messages(state, pending), []
            state = add_messages(state, messages)
        else:
            pending.extend(messages)
    return add_messages(state, pending) if pending else state


def latest_window(messages: list[AnyMessage], limit: int) -> list[AnyMessage]:
    """The longest run of at most `limit` latest messages that opens on the user's turn.

    Opening on a user message keeps a reply (or a tool result) from losing the
    message it answers; a system message that opens the conversation stays and
    counts toward the limit. With no user message in the run, the run as is.
    """
    if len(messages) <= limit:
        return messages
    head = messages[:1] if isinstance(messages[0], SystemMessage) else []
    tail = messages[len(messages) - limit + len(head) :]
    start = next((i for i, m in enumerate(tail) if isinstance(m, HumanMessage)), 0)
    return head + tail[start:]


@dataclass(frozen=True)
class MessageWindow:
    """The messages channel's reducer when the state keeps `limit` messages.

    Trimming after each fold gives the same window however writes are batched,
    as DeltaChannel requires, as long as writes add messages: a write that
    replaces or removes a message applies to the window, not to what left it.
    """

    limit: int

    def __call__(self, state: Any, batches: Sequence[Any]) -> Any:
        return latest_window(_add_message_batches(state, batches), self.limit)


def _chat_state(context_messages: int) -> type:
    reducer = MessageWindow(context_messages) if context_messages else _add_message_batches

    class ChatState(TypedDict):
        messages: Annotated[list[AnyMessage], DeltaChannel(reducer, snapshot_frequency=SNAPSHOT_EVERY)]

    return ChatState


@dataclass(frozen=True)
class AgentReply:
    text: str
    checkpoint_id: str


TokenSink = Callable[[str], Awaitable[None]]


class ChatAgent:
    """Runs one turn of a conversation and reports its tokens as they come.

    `context_messages` bounds the messages the state keeps and the model sees
    (0: the whole conversation).
    """

    def __init__(
        self, model: BaseChatModel, saver: BaseCheckpointSaver[Any], context_messages: int = 0
    ) -> None:
        self.model = model
        self.graph = self._compile(saver, context_messages)

    def _compile(
        self, saver: BaseCheckpointSaver[Any], context_messages: int
    ) -> CompiledStateGraph[Any, Any, Any, Any]:
        async def respond(state: Any) -> dict[str, list[AnyMessage]]:
            return {"messages": [await self.model.ainvoke(state["messages"])]}

        builder: StateGraph[Any] = StateGraph(_chat_state(context_messages))
        builder.add_node("respond", respond)
        builder.add_edge(START, "respond")
        builder.add_edge("respond", END)
        return builder.compile(checkpointer=saver)

    @staticmethod
    def config(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
        configurable: dict[str, Any] = {"thread_id": thread_id}
        if checkpoint_id is not None:
            configurable["checkpoint_id"] = checkpoint_id
        return {"configurable": configurable}

    async def respond(self, thread_id: str, text: str, on_token: TokenSink) -> AgentReply:
        """Add the user's message to the thread, run the model, return its reply."""
        reply: AIMessage | None = None
        checkpoint_id: str | None = None
        stream = self.graph.astream(
            {"messages": [HumanMessage(content=text)]},
            self.config(thread_id),
            stream_mode=["messages", "checkpoints"],
        )
        async for item in stream:
            mode, payload = cast(tuple[str, Any], item)
            if mode == "messages":
                chunk, _ = payload
                if isinstance(chunk, AIMessageChunk) and chunk.text:
                    await on_token(chunk.text)
            else:
                checkpoint_id = payload["config"]["configurable"]["checkpoint_id"]
                last = payload["values"].get("messages", [])[-1:]
                reply = last[0] if last and isinstance(last[0], AIMessage) else reply
        if reply is None or checkpoint_id is None:
            raise RuntimeError("the graph finished without a reply")
        return AgentReply(text=reply.text, checkpoint_id=checkpoint_id)

    async def values_at(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> dict[str, Any]:
        """Channel values at a checkpoint, for retention to snapshot; {} outside the root graph."""
        if checkpoint_ns:
            return {}
        return await self.state_at(thread_id, checkpoint_id) or {}

    async def state_at(self, thread_id: str, checkpoint_id: str) -> dict[str, Any] | None:
        """The graph's state at a checkpoint (DeltaChannel history rebuilt), or None."""
        snapshot = await self.graph.aget_state(self.config(thread_id, checkpoint_id))
        if not snapshot.values and snapshot.created_at is None:
            return None
        return dict(snapshot.values)
