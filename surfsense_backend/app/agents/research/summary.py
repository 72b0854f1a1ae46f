"""The summarising subgraph: a state of its own, checkpointed in its own namespace."""

from typing import Any

from langgraph.graph import END, START, StateGraph

# typing_extensions': pydantic reads it for the graphs' JSON schemas on Python < 3.12.
from typing_extensions import TypedDict

from app.agents.graph_agent import Graph

# Findings are "title\tsnippet" lines, as the search tool writes them.
SEPARATOR = "\t"


class SummaryInput(TypedDict):
    findings: list[str]


class SummaryOutput(TypedDict):
    summary: str


class SummaryState(SummaryInput, SummaryOutput):
    # How many findings each conversation had, in the order first found.
    per_conversation: dict[str, int]


def _count(state: SummaryState) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for finding in state["findings"]:
        title = finding.split(SEPARATOR, 1)[0]
        counts[title] = counts.get(title, 0) + 1
    return {"per_conversation": counts}


def _write(state: SummaryState) -> dict[str, Any]:
    counts = state["per_conversation"]
    if not counts:
        return {"summary": "Nothing in your other conversations mentions it."}
    found = sum(counts.values())
    titles = ", ".join(f"“{title}” ({n})" for title, n in counts.items())
    return {"summary": f"{found} message(s) in {len(counts)} conversation(s) mention it: {titles}."}


def build_summary_graph() -> Graph:
    """count -> write; compiled without a saver of its own, so it checkpoints
    with its parent's, under the namespace of the node that runs it."""
    builder: StateGraph[Any] = StateGraph(
        SummaryState, input_schema=SummaryInput, output_schema=SummaryOutput
    )
    builder.add_node("count", _count)
    builder.add_node("write", _write)
    builder.add_edge(START, "count")
    builder.add_edge("count", "write")
    builder.add_edge("write", END)
    return builder.compile()
