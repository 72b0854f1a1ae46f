"""Graphs built with what the app lends them: its chat model (LLM_PROVIDER,
or the one create_app was given), its context window
(CHAT_CONTEXT_MESSAGES) and, through each run's AgentContext, its services.

A `langgraph.json` entry may name an `AppGraph`; the app builds it once at
start-up on the shared saver. The built-in `chat` and `research` are two
(app/agents/builtin.py); any other graph is a plain LangGraph one.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel

from app.agents.context import AgentServices, StoreFor
from app.agents.graph_agent import Graph

# (model, saver, context_messages) -> the compiled graph.
GraphBuilder = Callable[[BaseChatModel, BaseCheckpointSaver[Any], int], Graph]


@dataclass(frozen=True)
class AppGraph:
    name: str
    description: str
    build: GraphBuilder
    uses_tools: bool = False
    # What an answer to one of its interrupts must look like; None: any JSON value.
    resume_schema: type[BaseModel] | None = None


@dataclass(frozen=True)
class AppResources:
    """What the app lends: AppGraphs are built with the model and window; every
    graph's runs get the services in their AgentContext, and the store of the
    run's user (`stores`; None: graphs run without a store), AppGraphs only
    where `app_memory` (CHAT_MEMORY) is on."""

    model: BaseChatModel
    context_messages: int
    services: AgentServices | None = None
    stores: StoreFor | None = None
    app_memory: bool = True
