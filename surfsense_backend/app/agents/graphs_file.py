"""`langgraph.json`, the configuration file the LangGraph CLI and the Agent
Server read, as this app reads it: `graphs` (an id each, naming a file or a
module and an attribute), `env` (a .env file or a mapping), `store` (its
`index`, read where the app builds its store) and `checkpointer` (kept, not
acted on). Its other keys
(`dependencies`, `python_version`, `http`, ...) are the CLI's: ignored here.
"""

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

logger = logging.getLogger(__name__)


class GraphsFileError(Exception):
    """The file cannot be used at all: said in one line that names it."""

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(f"{path}: {cause}")


@dataclass(frozen=True)
class GraphEntry:
    """One entry of `graphs`: `"./path/file.py:attr"` (a path, relative to the
    file's folder) or `"package.module:attr"`, or `{"path": ..., "description": ...}`."""

    id: str
    source: str
    description: str | None = None

    @property
    def target(self) -> tuple[str, str]:
        """Where the graph is (a file path or a module name) and its attribute."""
        where, colon, attribute = self.source.rpartition(":")
        if not colon or not where or not attribute:
            raise ValueError(f"{self.source!r} names no attribute: write 'file.py:graph' or 'module:graph'")
        return where, attribute


@dataclass(frozen=True)
class GraphsFile:
    path: Path
    graphs: dict[str, GraphEntry]
    # A .env path (relative to the file's folder) or variables; None: no `env`.
    env: str | dict[str, str] | None = None
    # Read and kept; not acted on yet.
    store: dict[str, Any] | None = None
    checkpointer: dict[str, Any] | None = None
    # Entries that are not a path or a mapping with one: id -> why.
    invalid: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent


def _entry(graph_id: str, value: Any) -> GraphEntry:
    if isinstance(value, str):
        return GraphEntry(graph_id, value)
    if isinstance(value, Mapping) and isinstance(value.get("path"), str):
        description = value.get("description")
        return GraphEntry(graph_id, value["path"], description if isinstance(description, str) else None)
    raise ValueError("expected 'file.py:graph', 'module:graph' or {\"path\": ...}")


def read_graphs_file(path: Path) -> GraphsFile:
    """The file at `path`, or GraphsFileError (missing, not JSON, no `graphs`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GraphsFileError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphsFileError(path, f"cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise GraphsFileError(path, f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("graphs"), dict) or not data["graphs"]:
        raise GraphsFileError(path, 'no "graphs": expected an object of graph ids and where each graph is')
    graphs: dict[str, GraphEntry] = {}
    invalid: dict[str, str] = {}
    for graph_id, value in data["graphs"].items():
        try:
            graphs[graph_id] = _entry(graph_id, value)
        except ValueError as exc:
            invalid[graph_id] = str(exc)
    env = data.get("env")
    if env is not None and not isinstance(env, str | dict):
        raise GraphsFileError(path, '"env" must be a .env file path or an object of variables')
    return GraphsFile(
        path=path.resolve(),
        graphs=graphs,
        env=env,
        store=data.get("store"),
        checkpointer=data.get("checkpointer"),
        invalid=invalid,
    )


def apply_env(file: GraphsFile) -> list[str]:
    """Set the file's `env` in this process's environment, as the LangGraph CLI
    does for its server; a variable already set keeps its value. Returns the
    names it set. A missing .env file sets nothing, as on the LangGraph CLI's
    server (templates name a `.env` their users make from `.env.example`,
    and a deployment sets the variables itself): one line says so."""
    if file.env is None:
        return []
    if isinstance(file.env, str):
        dotenv = file.folder / file.env
        if not dotenv.is_file():
            logger.warning('%s: "env": no such file %s; no variables set from it', file.path, dotenv)
            return []
        values = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
    else:
        values = {str(k): str(v) for k, v in file.env.items()}
    added = [name for name in values if name not in os.environ]
    for name in added:
        os.environ[name] = values[name]
    return added
