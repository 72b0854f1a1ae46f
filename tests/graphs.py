"""Graphs for tests: a one-node chat graph that answers every message with an
echo, and one whose parallel branches each ask a question at once; a turn on
any compiled graph, as plain LangGraph runs it."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.pregel import Pregel
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field

from app.agents.app_graph import AppGraph


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _add_message_batches(state: Any, batches: Sequence[Any]) -> Any:
    for batch in batches:
        state = add_messages(state, batch)
    return state


class DeltaChatState(TypedDict):
    """Messages in a DeltaChannel: each checkpoint stores only what changed,
    with a full snapshot every second update, so tests see both kinds."""

    messages: Annotated[list[AnyMessage], DeltaChannel(_add_message_batches, snapshot_frequency=2)]


def _echo(state: Any) -> dict[str, list[AnyMessage]]:
    # Untyped on purpose: a TypedDict hint would become the node's input schema.
    return {"messages": [AIMessage(content=f"echo: {state['messages'][-1].content}")]}


def echo_graph(
    saver: BaseCheckpointSaver[Any], *, delta: bool = False
) -> CompiledStateGraph[Any, Any, Any, Any]:
    builder: StateGraph[Any] = StateGraph(DeltaChatState if delta else ChatState)
    builder.add_node("echo", _echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    return builder.compile(checkpointer=saver)


async def chat(graph: Pregel[Any, Any, Any, Any], thread_id: str, text: str) -> list[str]:
    """Send one message; return the thread's message texts afterwards."""
    result = await graph.ainvoke(
        {"messages": [HumanMessage(content=text)]}, {"configurable": {"thread_id": thread_id}}
    )
    return [m.content for m in result["messages"]]


@dataclass(frozen=True)
class Reply:
    text: str
    # The checkpoint the turn ended at.
    checkpoint_id: str


async def reply_to(graph: Pregel[Any, Any, Any, Any], thread_id: str, text: str) -> Reply:
    """One turn of a conversation's thread on its compiled graph: its answer,
    and the checkpoint the graph's state is at afterwards."""
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    result = await graph.ainvoke({"messages": [HumanMessage(content=text)]}, config)
    state = await graph.aget_state(config)
    return Reply(result["messages"][-1].text, state.config["configurable"]["checkpoint_id"])


class Said(BaseModel):
    """What a branch of the fan-out graph is told to say: its resume schema."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=100)


def _asks(branch: str) -> Any:  # a node: typed as LangGraph's node protocols take it
    def ask(state: Any) -> dict[str, list[AnyMessage]]:
        answer = interrupt({"question": f"What should {branch} say?"})
        return {"messages": [AIMessage(content=f"{branch}: {answer['text']}")]}

    return ask


def fan_out_graph(
    model: BaseChatModel, saver: BaseCheckpointSaver[Any], context_messages: int
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """START -> left, right (in parallel) -> END: two interrupts pending at once."""
    builder: StateGraph[Any] = StateGraph(ChatState)
    for branch in ("left", "right"):
        builder.add_node(branch, _asks(branch))
        builder.add_edge(START, branch)
        builder.add_edge(branch, END)
    return builder.compile(checkpointer=saver)


# The fan-out graph as a langgraph.json names it (`tests.graphs:fan_out`): its answers are checked.
fan_out = AppGraph(
    name="Fan out",
    description="Two branches that each ask what to say.",
    build=fan_out_graph,
    resume_schema=Said,
)
