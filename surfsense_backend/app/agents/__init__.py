"""The agents the app runs: the graphs `langgraph.json` declares, on the shared saver."""

from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver

from app.agents.app_graph import AppResources
from app.agents.context import AgentServices, StoreFor
from app.agents.loader import load_assistants
from app.agents.models import create_chat_model
from app.agents.registry import AssistantOf, CompiledAssistants
from app.config import get_llm_settings, get_settings


async def _no_thread_owner(thread_id: str) -> None:
    return None


async def compile_assistants(
    saver: BaseCheckpointSaver[Any],
    model: BaseChatModel | None = None,
    assistant_of: AssistantOf | None = None,
    *,
    services: AgentServices | None = None,
    graphs_file: Path | None = None,
    stores: StoreFor | None = None,
) -> CompiledAssistants:
    """Every graph of `graphs_file` (default: LANGGRAPH_JSON) as the app runs
    it: the app's own (AppGraphs) on the configured model and context window,
    every graph on `saver`, and the app's `services` for the tools (without
    them a tool that needs one fails); each run gets its user's store from
    `stores` (without it, none; the app's own graphs none with CHAT_MEMORY off).

    The CLI builds the same ones for retention, which rebuilds their state.
    """
    settings = get_settings()
    resources = AppResources(
        model or create_chat_model(get_llm_settings()),
        settings.chat_context_messages,
        services,
        stores,
        app_memory=settings.chat_memory,
    )
    path = graphs_file or settings.langgraph_json
    return await load_assistants(path, saver, resources, assistant_of or _no_thread_owner)


__all__ = ["CompiledAssistants", "compile_assistants"]
