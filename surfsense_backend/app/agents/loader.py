"""Loading the graphs `langgraph.json` declares, at start-up.

Each graph loads on its own: one that cannot (a missing file, module or
attribute, an attribute that is not a graph, a factory that raises) is one
log line naming the file, the graph and the cause, and is remembered so a
request that names it is told why (GraphNotLoaded, 424); the others load.
A file that cannot be read, or of which no graph loads, stops the start-up.
"""

import hashlib
import importlib
import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from app.agents.app_graph import AppGraph, AppResources
from app.agents.graph_agent import GraphAgent
from app.agents.graph_source import GraphFactory, NotAGraph, on_saver
from app.agents.graphs_file import GraphEntry, GraphsFile, GraphsFileError, apply_env, read_graphs_file
from app.agents.registry import Assistant, AssistantOf, AssistantRegistry, CompiledAssistants
from app.errors import first_line

logger = logging.getLogger(__name__)

# The config a factory's graph is built with to read its shape and state:
# no run, so nothing but what every run has.
READ_CONFIG: RunnableConfig = {"configurable": {}}


def _module_from_file(path: Path) -> ModuleType:
    """The module at `path`, imported once per process under a name of its own."""
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:8]
    name = f"langgraph_json_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as an import would: its dataclasses and pydantic models look it up.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def import_entry(entry: GraphEntry, folder: Path) -> Any:
    """The attribute an entry names: in a file (a path, relative to `folder`) or a module."""
    where, attribute = entry.target
    if "/" in where or where.endswith(".py"):
        path = (folder / where).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no such file {path}")
        module = _module_from_file(path)
    else:
        module = importlib.import_module(where)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise AttributeError(f"{where} has no attribute {attribute!r}") from None


async def _agent(
    entry: GraphEntry, value: Any, saver: BaseCheckpointSaver[Any], resources: AppResources
) -> tuple[Assistant, GraphAgent]:
    if isinstance(value, AppGraph):
        graph: Any = value.build(resources.model, saver, resources.context_messages)
        assistant = Assistant(entry.id, value.name, value.description, value.uses_tools, value.resume_schema)
        stores = resources.stores if resources.app_memory else None
        return assistant, GraphAgent(entry.id, graph, resources.services, app_context=True, stores=stores)
    factory = None
    if isinstance(value, Pregel | StateGraph):
        graph = on_saver(value, saver, entry.id)
    elif callable(value):
        factory = GraphFactory(entry.id, value, saver)
        # Built once now, to read its shape and its threads' state (and to
        # find a factory that fails before a run does); each run builds its own.
        async with factory.open(READ_CONFIG, execution=False) as graph:
            pass
    else:
        raise NotAGraph(value)
    assistant = Assistant(entry.id, graph.name, entry.description or "")
    return assistant, GraphAgent(
        entry.id, graph, resources.services, factory=factory, stores=resources.stores
    )


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {first_line(exc)}"


def _note_unused(file: GraphsFile) -> None:
    # `store.index` is acted on where the app builds its store; a checkpointer setting is not.
    if file.checkpointer is not None:
        logger.info("%s: 'checkpointer' is read, not acted on: graphs run on the app's saver", file.path)


async def load_assistants(
    path: Path, saver: BaseCheckpointSaver[Any], resources: AppResources, assistant_of: AssistantOf
) -> CompiledAssistants:
    """Every graph of the file at `path` that loads, on `saver`. GraphsFileError
    when the file cannot be used or none of its graphs loads."""
    file = read_graphs_file(path)
    apply_env(file)
    _note_unused(file)
    registry = AssistantRegistry()
    agents: dict[str, GraphAgent] = {}
    failed = {graph_id: f"ValueError: {why}" for graph_id, why in file.invalid.items()}
    for entry in file.graphs.values():
        try:
            assistant, agents[entry.id] = await _agent(
                entry, import_entry(entry, file.folder), saver, resources
            )
        except Exception as exc:
            failed[entry.id] = _cause(exc)
            continue
        registry.register(assistant)
    for graph_id, cause in failed.items():
        logger.error("%s: graph %r not loaded: %s", file.path, graph_id, cause)
    registry.failed.update(failed)
    if not agents:
        raise GraphsFileError(file.path, "no graph loaded")
    return CompiledAssistants(registry, agents, assistant_of)
