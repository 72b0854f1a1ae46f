"""Assistants: the graphs of `langgraph.json` (shared, read-only) and the
configurations of them each user makes, with their versions."""
