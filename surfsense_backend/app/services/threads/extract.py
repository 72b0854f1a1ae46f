"""`extract` of a thread search: values picked out of each thread by a path
in dot and bracket notation (`values.messages[-1].content`)."""

import re
from typing import Any

from app.errors import InvalidRequest

MAX_PATHS = 10
_NOWHERE = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")
_PATH = re.compile(r"(?:[^.\[\]]+|\[-?\d+\])(?:\.[^.\[\]]+|\[-?\d+\])*")


class InvalidExtract(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"extract: {reason}")


def parse(paths: dict[str, str]) -> dict[str, list[str | int]]:
    """Each alias's path as keys and indices; InvalidExtract for more than
    MAX_PATHS or a path that is not dot and bracket notation."""
    if len(paths) > MAX_PATHS:
        raise InvalidExtract(f"at most {MAX_PATHS} paths")
    parsed: dict[str, list[str | int]] = {}
    for alias, path in paths.items():
        if not _PATH.fullmatch(path):
            raise InvalidExtract(f"{path!r} is not a path such as values.messages[-1].content")
        parsed[alias] = [key if key else int(index) for key, index in _STEP.findall(path)]
    return parsed


def pick(thread: dict[str, Any], paths: dict[str, list[str | int]]) -> dict[str, Any]:
    """Each alias's value in `thread`, None where its path leads nowhere."""
    return {alias: _follow(thread, steps) for alias, steps in paths.items()}


def _follow(value: Any, steps: list[str | int]) -> Any:
    for step in steps:
        value = _step(value, step)
        if value is _NOWHERE:
            return None
    return value


def _step(value: Any, step: str | int) -> Any:
    if isinstance(step, int):
        found = isinstance(value, list) and -len(value) <= step < len(value)
        return value[step] if found else _NOWHERE
    return value[step] if isinstance(value, dict) and step in value else _NOWHERE
