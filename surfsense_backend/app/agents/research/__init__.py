"""The research agent: searches the user's conversations, summarises what it
found in a subgraph, and saves a note once the user approves it."""

from app.agents.research.graph import ApprovalIn, build_research_graph

__all__ = ["ApprovalIn", "build_research_graph"]
