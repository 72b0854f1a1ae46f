"""Graphs made per run by factories: from the run's config, from nothing
(async), and from the server's runtime."""

# `ServerRuntime` bare, as the Agent Server's docs write it for a factory that reads no context.
# mypy: disable-error-code="type-arg"

import asyncio
import os

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph_sdk.runtime import ServerRuntime


def _saying(text: str) -> StateGraph[MessagesState]:
    def say(state: MessagesState) -> dict[str, list[dict[str, str]]]:
        return {"messages": [{"role": "assistant", "content": text}]}

    builder = StateGraph(MessagesState)
    builder.add_node("say", say)
    builder.add_edge(START, "say")
    return builder


def make_configured(config: RunnableConfig) -> CompiledStateGraph[MessagesState]:
    thread_id = config.get("configurable", {}).get("thread_id", "no thread")
    return _saying(f"made for thread {thread_id}").compile()


async def make_async() -> StateGraph[MessagesState]:
    await asyncio.sleep(0)
    return _saying(os.environ.get("GRAPHS_PROJECT_GREETING", "no greeting"))


def make_on_runtime(runtime: ServerRuntime) -> CompiledStateGraph[MessagesState]:
    return _saying(f"made for {runtime.access_context}").compile()
