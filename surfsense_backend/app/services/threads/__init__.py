"""Threads as the LangGraph Agent Server API names them: a conversation is a
thread (its id the `thread_id`), its status derived from its runs, its values
the graph's state."""
