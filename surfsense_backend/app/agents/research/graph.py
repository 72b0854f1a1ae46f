"""The research agent's graph.

    agent ──tool calls──> approve ──some approved──> tools ──search──> summarise ──> agent
      │                     └──all rejected (a tool error per call)──────────> agent
      └──no tool call──> END

`approve` calls interrupt() once for the calls that need approval, in the
format of LangChain's HumanInTheLoopMiddleware (`app.agents.approval`): an
action request per call, answered with a decision per call (approve, edit
its arguments, or reject with a message for the model). `summarise` is a
subgraph with a state of its own (its checkpoints live in its own namespace).
"""

from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.types import Command, Send, interrupt

# typing_extensions': pydantic reads it for the graphs' JSON schemas on Python < 3.12.
from typing_extensions import TypedDict

from app.agents.approval import Decisions, approval_request, decide
from app.agents.chat_graph import messages_channel
from app.agents.context import AgentContext
from app.agents.graph_agent import Graph
from app.agents.local_model import SUMMARY_PREFIX
from app.agents.research.summary import build_summary_graph
from app.agents.research.tools import NEEDS_APPROVAL, TOOLS

PROMPT = (
    "You are a research assistant with access to the user's past conversations. "
    "Use search_conversations to find what they discussed, and save_note when they ask you "
    "to keep something; the user approves each note before it is saved."
)


class ApprovalIn(Decisions):
    """The answer to the agent's request to run tools: resume with it. An
    edit's arguments are checked against the tool's."""

    tools: ClassVar[dict[str, BaseTool]] = {t.name: t for t in TOOLS if t.name in NEEDS_APPROVAL}


def _describe(call: ToolCall) -> str:
    return f"Save this note? “{call['args'].get('text', '')}”"


def _research_state(context_messages: int) -> type:
    class ResearchState(TypedDict):
        messages: messages_channel(context_messages)  # type: ignore[valid-type]
        # The latest search's findings, and the subgraph's summary of them.
        findings: list[str]
        summary: str

    return ResearchState


def _since_last_question(messages: list[AnyMessage]) -> list[AnyMessage]:
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    return messages[start + 1 :]


def _prompt(state: Any) -> list[AnyMessage]:
    """The system prompt, with the summary of a search made for this question."""
    messages: list[AnyMessage] = state["messages"]
    searched = any(
        isinstance(m, ToolMessage) and m.name == "search_conversations"
        for m in _since_last_question(messages)
    )
    system = PROMPT + (f"\n\n{SUMMARY_PREFIX}{state['summary']}" if searched and state.get("summary") else "")
    return [SystemMessage(system), *messages]


def _last_ai(state: Any) -> AIMessage | None:
    last = state["messages"][-1] if state["messages"] else None
    return last if isinstance(last, AIMessage) else None


def _after_agent(state: Any) -> str:
    message = _last_ai(state)
    if message is None or not message.tool_calls:
        return END
    return "approve" if any(c["name"] in NEEDS_APPROVAL for c in message.tool_calls) else "tools"


def _approve(state: Any) -> Command[Any]:
    """Ask the user about the calls that need approval; interrupt() returns
    their decisions. Approved and edited calls run (the message keeps the
    calls as decided), rejected ones get the user's message as their result."""
    message = _last_ai(state)
    assert message is not None  # noqa: S101 - routed here only after a tool call
    asked = [c for c in message.tool_calls if c["name"] in NEEDS_APPROVAL]
    request = approval_request(asked, _describe, ApprovalIn.tools)
    answer = ApprovalIn.model_validate(interrupt(request), context={"asked": request})
    decided, refused = decide(asked, answer)
    by_id = {c["id"]: c for c in decided}
    calls = [by_id.get(c["id"], c) for c in message.tool_calls]
    rejected = {m.tool_call_id for m in refused}
    # An edited call replaces the message's (same id): the model reads what ran.
    revised = [message.model_copy(update={"tool_calls": calls})] if calls != message.tool_calls else []
    written = {"messages": [*revised, *refused]}
    runs = [c for c in calls if c["id"] not in rejected]
    if not runs:
        return Command(goto="agent", update=written)
    # The message keeps every call (a rejected one is answered by its refusal,
    # as every model API needs); the tools node gets only the calls to run,
    # one task each, as LangChain's agents send them.
    sends = [
        Send("tools", {"__type": "tool_call_with_context", "tool_call": call, "state": state})
        for call in runs
    ]
    return Command(goto=sends, update=written)


def _after_tools(state: Any) -> str:
    ran = [m for m in reversed(state["messages"]) if isinstance(m, ToolMessage)]
    return "summarise" if ran and ran[0].name == "search_conversations" else "agent"


def build_research_graph(
    model: BaseChatModel, saver: BaseCheckpointSaver[Any], context_messages: int = 0
) -> Graph:
    async def agent(state: Any) -> dict[str, list[AnyMessage]]:
        # Bound per call: a model without tool calling fails this agent's runs, not the app's start.
        return {"messages": [await model.bind_tools(TOOLS).ainvoke(_prompt(state))]}

    builder: StateGraph[Any, AgentContext] = StateGraph(
        _research_state(context_messages), context_schema=AgentContext
    )
    builder.add_node("agent", agent)
    builder.add_node("approve", _approve, destinations=("tools", "agent"))
    builder.add_node("tools", ToolNode(TOOLS))
    builder.add_node("summarise", build_summary_graph())
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", _after_agent, ["approve", "tools", END])
    builder.add_conditional_edges("tools", _after_tools, ["summarise", "agent"])
    builder.add_edge("summarise", "agent")
    return builder.compile(checkpointer=saver)
