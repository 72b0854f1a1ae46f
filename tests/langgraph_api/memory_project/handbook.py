"""A graph that reads the app's shared handbook (STORE_SHARED_NAMESPACES)
through `runtime.store`, by meaning, and tries to write into it as a graph
might: its reply says what it found and how the write went."""

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.runtime import Runtime


async def answer(state: MessagesState, runtime: Runtime) -> dict[str, list[AIMessage]]:
    assert runtime.store is not None
    question = str(state["messages"][-1].content)
    found = await runtime.store.asearch(("handbook",), query=question, limit=1)
    try:
        await runtime.store.aput(("handbook", "staff"), "leave", {"text": "written by a graph"})
        wrote = "written"
    except Exception as exc:  # the reply reports whatever the store says
        wrote = f"{type(exc).__name__}: {exc}"
    return {"messages": [AIMessage(f"{found[0].value['text']} ({wrote})")]}


builder = StateGraph(MessagesState)
builder.add_node(answer)
builder.add_edge(START, "answer")
graph = builder.compile()
