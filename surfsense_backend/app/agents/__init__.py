"""The agents the app runs, compiled with the shared saver."""

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver

from app.agents.chat_graph import ChatAgent
from app.agents.models import create_chat_model
from app.config import get_llm_settings, get_settings


def chat_agent(saver: BaseCheckpointSaver[Any], model: BaseChatModel | None = None) -> ChatAgent:
    """The chat agent as the app runs it: the configured model and context window.

    The CLI builds the same one for retention, which rebuilds its state.
    """
    chosen = model or create_chat_model(get_llm_settings())
    return ChatAgent(chosen, saver, get_settings().chat_context_messages)
