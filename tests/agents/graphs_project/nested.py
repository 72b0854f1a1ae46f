"""A graph whose subgraph keeps a state of its own across runs (`checkpointer=True`)."""

from langgraph.graph import START, MessagesState, StateGraph


class CounterState(MessagesState):
    calls: int


def count(state: CounterState) -> dict[str, object]:
    calls = state.get("calls", 0) + 1
    return {"calls": calls, "messages": [{"role": "assistant", "content": f"call {calls}"}]}


counter = StateGraph(CounterState)
counter.add_node(count)
counter.add_edge(START, "count")

parent = StateGraph(MessagesState)
parent.add_node("counter", counter.compile(checkpointer=True))
parent.add_edge(START, "counter")
graph = parent.compile()
