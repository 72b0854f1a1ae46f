"""A LangGraph project as its users write one: graphs in plain files, named
by `langgraph.json` (beside them), and none of them written for this app."""
