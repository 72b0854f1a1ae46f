"""The agents the app runs: every registered assistant, compiled with the shared saver."""

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver

from app.agents.assistants import ASSISTANTS
from app.agents.context import AgentServices
from app.agents.models import create_chat_model
from app.agents.registry import AssistantOf, CompiledAssistants
from app.config import get_llm_settings, get_settings


async def _no_thread_owner(thread_id: str) -> None:
    return None


def compile_assistants(
    saver: BaseCheckpointSaver[Any],
    model: BaseChatModel | None = None,
    assistant_of: AssistantOf = _no_thread_owner,
    services: AgentServices | None = None,
) -> CompiledAssistants:
    """Every assistant as the app runs it: the configured model and context
    window, and the app's `services` for the tools (without them a tool that
    needs one fails).

    The CLI builds the same ones for retention, which rebuilds their state.
    """
    chosen = model or create_chat_model(get_llm_settings())
    return ASSISTANTS.compile(chosen, saver, get_settings().chat_context_messages, assistant_of, services)


__all__ = ["ASSISTANTS", "CompiledAssistants", "compile_assistants"]
