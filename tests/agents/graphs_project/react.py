"""A ReAct agent as LangGraph's react-agent template writes one: its model and
system prompt come from the run's context (`context_schema`, `Runtime`)."""

from dataclasses import dataclass
from typing import Literal

from langchain.chat_models import init_chat_model
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime


@dataclass(kw_only=True)
class Context:
    model: str = "openai:test-model"
    system_prompt: str = "You are a helpful assistant."


@tool
def shout(text: str) -> str:
    """Say `text` loudly."""
    return text.upper()


TOOLS = [shout]


async def call_model(state: MessagesState, runtime: Runtime[Context]) -> dict[str, list[AIMessage]]:
    model = init_chat_model(runtime.context.model).bind_tools(TOOLS)
    system = {"role": "system", "content": runtime.context.system_prompt}
    return {"messages": [await model.ainvoke([system, *state["messages"]])]}


def route(state: MessagesState) -> Literal["tools", "__end__"]:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else "__end__"


builder = StateGraph(MessagesState, context_schema=Context)
builder.add_node(call_model)
builder.add_node("tools", ToolNode(TOOLS))
builder.add_edge(START, "call_model")
builder.add_conditional_edges("call_model", route)
builder.add_edge("tools", "call_model")
graph = builder.compile(name="ReAct Agent")
