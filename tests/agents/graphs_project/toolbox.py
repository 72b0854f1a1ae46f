"""An agent made per run by a factory that picks its tools from the run's
`configurable`, with LangChain's `create_agent`."""

from typing import Any

from langchain.agents import create_agent
from langchain.chat_models import init_chat_model
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool


@tool
def reverse(text: str) -> str:
    """Say `text` backwards."""
    return text[::-1]


@tool
def count_letters(text: str) -> str:
    """Count the letters of `text`."""
    return f"{sum(c.isalpha() for c in text)} letters"


TOOLS = {t.name: t for t in (reverse, count_letters)}


def make_agent(config: RunnableConfig) -> Any:
    chosen = config.get("configurable", {}).get("tools", ["reverse"])
    return create_agent(init_chat_model("openai:test-model"), tools=[TOOLS[name] for name in chosen])
