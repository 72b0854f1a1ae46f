"""A run's `config` and `context` as its client and its assistant give them,
checked and merged once, at the API's edge (both APIs), as the Agent Server
does: the run's over its assistant's.

- `config` holds `configurable`, `tags` and `recursion_limit`, LangGraph's
  keys a client sets; anything else is refused, never ignored.
- `configurable` and `context` together are refused (the Agent Server's
  rule: context replaces configurable since LangGraph 0.6); a context is
  mirrored into `configurable`, for graphs that read that.
- The server's own keys: the ids it gives every run (`user_id` among them)
  are its own whatever a client sends, so a graph's per-user data cannot be
  another user's; LangGraph's internals (`__...`), the caller's identity
  (`langgraph_auth_...`) and a checkpoint (named in `checkpoint`) are refused.
"""

from collections.abc import Mapping
from typing import Any

from app.errors import InvalidRequest
from app.services.persistence.checkpoint_metadata import LANGGRAPH_KEYS, RUN_IDS

CONFIG_KEYS = ("configurable", "tags", "recursion_limit")
MAX_RECURSION_LIMIT = 10_000
# Given by the server to every run: a client's value is replaced.
_SERVERS = RUN_IDS | {"thread_id"}
_REFUSED = (LANGGRAPH_KEYS - {"thread_id"}) | {"langgraph_auth_user", "langgraph_auth_permissions"}


class InvalidConfig(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The run's config {reason}.")


class ConfigAndContext(InvalidRequest):
    status_code = 400  # the Agent Server's, so langgraph-sdk raises the same BadRequestError

    def __init__(self) -> None:
        super().__init__(
            "Cannot specify both configurable and context: prefer setting context alone "
            "(LangGraph 0.6 and later read a graph's settings from its context)."
        )


def merged_config(
    given: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
    assistant_config: Mapping[str, Any] | None = None,
    assistant_context: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The run's config and context: the client's (`given`, `context`)
    checked, over its assistant's. The context is None when neither gave one."""
    own = _checked(given or {})
    if own.get("configurable") and context:
        raise ConfigAndContext
    if context:
        own["configurable"] = dict(context)
    base = dict(assistant_config or {})
    config: dict[str, Any] = {
        **base,
        **own,
        "configurable": {**base.get("configurable", {}), **own.get("configurable", {})},
    }
    if "tags" in base and "tags" in own:
        config["tags"] = [*base["tags"], *own["tags"]]
    if not config["configurable"]:
        del config["configurable"]
    return config, {**(assistant_context or {}), **(context or {})} or None


def _checked(config: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise InvalidConfig(f"has {', '.join(unknown)}: it holds {', '.join(CONFIG_KEYS)} only")
    checked: dict[str, Any] = {}
    if (tags := config.get("tags")) is not None:
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise InvalidConfig("tags must be a list of strings")
        checked["tags"] = tags
    if (limit := config.get("recursion_limit")) is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RECURSION_LIMIT:
            raise InvalidConfig(f"recursion_limit must be a whole number from 1 to {MAX_RECURSION_LIMIT}")
        checked["recursion_limit"] = limit
    if (configurable := config.get("configurable")) is not None:
        if not isinstance(configurable, dict):
            raise InvalidConfig("configurable must be an object")
        checked["configurable"] = _clients(configurable)
    return checked


def _clients(configurable: Mapping[str, Any]) -> dict[str, Any]:
    """A client's configurable values, without those the server gives."""
    for key in configurable:
        if key in _REFUSED or key.startswith(("__", "langgraph_auth_")):
            raise InvalidConfig(f"sets configurable.{key}, which only the server sets")
    return {key: value for key, value in configurable.items() if key not in _SERVERS}
