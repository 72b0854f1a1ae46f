"""A compiled graph with its own in-memory saver, as in LangGraph's tutorials."""

from langgraph.checkpoint.memory import MemorySaver
from langgraph.graph import START, MessagesState, StateGraph


def respond(state: MessagesState) -> dict[str, list[dict[str, str]]]:
    heard = [m.text for m in state["messages"] if m.type == "human"]
    return {"messages": [{"role": "assistant", "content": f"heard so far: {', '.join(heard)}"}]}


builder = StateGraph(MessagesState)
builder.add_node(respond)
builder.add_edge(START, "respond")
graph = builder.compile(checkpointer=MemorySaver())
