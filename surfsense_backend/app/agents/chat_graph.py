"""The chat agent: a LangGraph graph compiled with the shared durable saver.

Messages live in a DeltaChannel: each checkpoint stores only the messages a
step added (and a full snapshot every `SNAPSHOT_EVERY` updates), so storage
grows with the conversation, not with its square as with a plain reducer.
The state holds a window of the latest messages (decision 0008): the
messages table keeps the whole conversation, and a turn's cost stays flat.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AnyMessage,
    HumanMessage,
    MessageLikeRepresentation,
    RemoveMessage,
    SystemMessage,
    convert_to_messages,
)
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime

# typing_extensions': pydantic reads it for the graphs' JSON schemas on Python < 3.12.
from typing_extensions import TypedDict

from app.agents.graph_agent import Graph, GraphAgent
from app.agents.memory import recall_and_remember

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


def messages_channel(context_messages: int) -> Any:
    """The messages channel of the app's agents: a DeltaChannel keeping the
    latest `context_messages` (0: all)."""
    reducer = MessageWindow(context_messages) if context_messages else _add_message_batches
    return Annotated[list[AnyMessage], DeltaChannel(reducer, snapshot_frequency=SNAPSHOT_EVERY)]


def chat_state(context_messages: int) -> type:
    class ChatState(TypedDict):
        messages: messages_channel(context_messages)  # type: ignore[valid-type]

    return ChatState


def build_chat_graph(
    model: BaseChatModel, saver: BaseCheckpointSaver[Any], context_messages: int = 0
) -> Graph:
    """One node: the model answers the conversation, with what it remembers
    of the user where the run has their store (`memory.py`)."""

    async def respond(state: Any, runtime: Runtime[Any]) -> dict[str, list[AnyMessage]]:
        memory = await recall_and_remember(runtime.store, state["messages"])
        if memory is None:
            return {"messages": [await model.ainvoke(state["messages"])]}
        reply = await model.ainvoke([*memory.prompt(), *state["messages"]])
        shown = {**reply.response_metadata, **memory.metadata()}
        return {"messages": [reply.model_copy(update={"response_metadata": shown})]}

    builder: StateGraph[Any] = StateGraph(chat_state(context_messages))
    builder.add_node("respond", respond)
    builder.add_edge(START, "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=saver)


class ChatAgent(GraphAgent):
    """The chat graph on `model`; `context_messages` bounds the messages the
    state keeps and the model sees (0: the whole conversation)."""

    def __init__(
        self, model: BaseChatModel, saver: BaseCheckpointSaver[Any], context_messages: int = 0
    ) -> None:
        super().__init__("chat", build_chat_graph(model, saver, context_messages))
