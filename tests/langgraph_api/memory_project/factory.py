"""A graph factory that takes the store from the server's runtime, as
langgraph-sdk's `ServerRuntime` hands it (None when the graph is only read)."""

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph_sdk.runtime import ServerRuntime


def make_graph(runtime: ServerRuntime) -> CompiledStateGraph:  # type: ignore[type-arg]
    store = runtime.store

    async def count(state: MessagesState) -> dict[str, list[AIMessage]]:
        assert store is not None
        seen = len(await store.asearch(("factory",)))
        await store.aput(("factory",), "visit", {"seen": seen})
        return {"messages": [AIMessage(f"seen {seen}")]}

    builder = StateGraph(MessagesState)
    builder.add_node(count)
    builder.add_edge(START, "count")
    return builder.compile()
