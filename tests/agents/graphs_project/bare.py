"""A StateGraph left for the server to compile."""

from langgraph.graph import START, MessagesState, StateGraph


def shout(state: MessagesState) -> dict[str, list[dict[str, str]]]:
    return {"messages": [{"role": "assistant", "content": str(state["messages"][-1].content).upper()}]}


workflow = StateGraph(MessagesState)
workflow.add_node(shout)
workflow.add_edge(START, "shout")
