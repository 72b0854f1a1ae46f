"""A graph made per run, whose nodes come from `configurable`."""

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph


def _tool(name: str) -> Any:  # a node, as StateGraph.add_node's overloads take it
    def use(state: MessagesState) -> dict[str, list[dict[str, str]]]:
        return {"messages": [{"role": "assistant", "content": f"used {name}"}]}

    return use


def make_graph(config: RunnableConfig) -> CompiledStateGraph[MessagesState]:
    tools = config.get("configurable", {}).get("tools", ["search"])
    if "explode" in tools:
        raise ValueError("no such tool: explode")
    builder = StateGraph(MessagesState)
    previous = START
    for name in tools:
        builder.add_node(name, _tool(name))
        builder.add_edge(previous, name)
        previous = name
    return builder.compile()
