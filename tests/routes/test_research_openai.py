"""The research agent with `LLM_PROVIDER=openai`: LangChain's ChatOpenAI binds
the tools and streams the model's tool calls, against an OpenAI-compatible
server on loopback (no network here); the same graph runs to its interrupt
and on to its answer."""

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from app.agents.models import create_chat_model
from app.config.llm import LLMSettings
from tests.http_client import CallerOn
from tests.openai_compatible import OpenAICompatible
from tests.research_client import APPROVE, ASK, SUMMARY, history, research_conversation, shape


@pytest.fixture
async def model_server() -> AsyncIterator[OpenAICompatible]:
    async with OpenAICompatible().serving() as server:
        yield server


async def test_the_same_graph_on_an_openai_model(caller_on: CallerOn, model_server: OpenAICompatible) -> None:
    settings = LLMSettings(
        llm_provider="openai", openai_api_key=SecretStr("test-key"), openai_base_url=model_server.base_url
    )
    caller = await caller_on(create_chat_model(settings))
    conversation = await research_conversation(caller.client)
    asked = await caller.send(conversation, ASK)
    assert asked.json()["status"] == "interrupted", asked.text
    resumed = await caller.client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"resume": APPROVE}
    )
    answer = resumed.json()["assistant_message"]["content"]
    assert answer.startswith("Done. Saved note ")

    assert shape(await history(caller.client, conversation)) == [
        ("user", ASK),
        ("assistant", "call search_conversations"),
        ("tool", "search_conversations success"),
        ("assistant", "call save_note"),
        ("interrupt", f"Save this note? “{SUMMARY}”"),
        ("tool", "save_note success"),
        ("assistant", answer),
    ]
    # The model was offered both tools with their arguments, and saw every result.
    first = next(request for request in model_server.requests if request.get("tools"))
    offered = {t["function"]["name"]: t["function"]["parameters"]["required"] for t in first["tools"]}
    assert offered == {"search_conversations": ["query"], "save_note": ["text"]}
    assert [m["role"] for m in model_server.requests[-1]["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
