"""Two branches in parallel that each ask a person (`interrupt`): two
interrupts pending at once, answered together by id."""

from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt


def _asking(branch: str):  # type: ignore[no-untyped-def]  # a node, as LangGraph's examples write one
    def ask(state: MessagesState) -> dict[str, list[dict[str, str]]]:
        answer = interrupt(f"What should {branch} say?")
        return {"messages": [{"role": "assistant", "content": f"{branch}: {answer}"}]}

    return ask


builder = StateGraph(MessagesState)
for branch in ("left", "right"):
    builder.add_node(branch, _asking(branch))
    builder.add_edge(START, branch)
    builder.add_edge(branch, END)
graph = builder.compile()
