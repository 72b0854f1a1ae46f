"""Graphs that assistants configure, as LangGraph users write them: one
reads a context schema, one is made per run from `configurable`, one has a
subgraph, and one fails to load."""
