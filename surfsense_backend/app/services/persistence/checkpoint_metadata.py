"""What a checkpoint's metadata keeps of the config it was saved with.

LangGraph copies every plain value of a run's `configurable` into the
metadata of each checkpoint the run saves (`get_checkpoint_metadata`), and
LangChain copies `configurable["model"]` into the config's `metadata` on the
way. A client's configurable may hold anything, an API key included, and
checkpoint metadata is read by every history and search of the thread: it
keeps LangGraph's own keys and the ids the server gives every run, never a
client's values.
"""

from typing import Any

from langchain_core.runnables import RunnableConfig

# The ids the server puts in every run's `configurable` (the Agent Server's names).
RUN_IDS = frozenset({"run_id", "assistant_id", "graph_id", "user_id", "langgraph_auth_user_id"})
# LangGraph's own keys of a checkpoint's config.
LANGGRAPH_KEYS = frozenset({"thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map"})
_KEPT = RUN_IDS | LANGGRAPH_KEYS


def _kept(key: str) -> bool:
    return key in _KEPT or key.startswith("__")


def without_client_values(config: RunnableConfig) -> RunnableConfig:
    """`config` without the configurable values a client gave, nor the copies
    of them in its metadata: what a checkpoint's metadata may be made from."""
    configurable: dict[str, Any] = config.get("configurable") or {}
    given = {key: value for key, value in configurable.items() if not _kept(key)}
    if not given:
        return config
    metadata = {
        key: value
        for key, value in (config.get("metadata") or {}).items()
        if key not in given or given[key] != value
    }
    kept = {key: value for key, value in configurable.items() if _kept(key)}
    return {**config, "configurable": kept, "metadata": metadata}
