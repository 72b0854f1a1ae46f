"""The chat models the agent can run on."""

import asyncio
import itertools

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import ValidationError

from app.agents.local_model import LocalChatModel, local_reply, tokens
from app.agents.models import create_chat_model
from app.config import LLMSettings


class TestLocalModel:
    def test_reply_numbers_the_users_messages(self) -> None:
        history = [HumanMessage("a"), AIMessage("x"), HumanMessage("b")]
        assert local_reply(history) == "Reply 2: you said “b”."
        assert local_reply([]) == "Hello! Send me a message."

    @pytest.mark.parametrize("text", ["Reply 1: you said “hi”.", "  spaced   out  ", "", "one"])
    def test_tokens_join_back_exactly(self, text: str) -> None:
        assert "".join(tokens(text)) == text

    async def test_streams_the_same_reply_it_returns(self) -> None:
        model = LocalChatModel()
        history = [HumanMessage("hello there")]
        streamed = [chunk.text async for chunk in model.astream(history)]
        assert len(streamed) > 1
        assert "".join(streamed) == (await model.ainvoke(history)).text

    async def test_a_token_delay_spaces_the_tokens_out(self) -> None:
        model = create_chat_model(LLMSettings(local_token_delay=0.02))
        history = [HumanMessage("hello there")]
        loop = asyncio.get_running_loop()
        # (LangChain ends a stream with an empty chunk of its own.)
        arrivals = [(loop.time(), chunk.text) async for chunk in model.astream(history) if chunk.text]
        assert "".join(text for _, text in arrivals) == local_reply(history)
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(arrivals)]
        assert min(gaps) >= 0.02


class TestFactory:
    def test_local_is_the_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("LLM_PROVIDER", raising=False)
        assert isinstance(create_chat_model(LLMSettings()), LocalChatModel)

    def test_openai_is_configured_from_settings(self) -> None:
        settings = LLMSettings(
            llm_provider="openai",
            llm_model="some-model",
            openai_api_key="sk-test",
            openai_base_url="http://127.0.0.1:9/v1",
        )
        model = create_chat_model(settings)
        assert isinstance(model, ChatOpenAI)
        assert (model.model_name, model.openai_api_base, model.streaming) == (
            "some-model",
            "http://127.0.0.1:9/v1",
            True,
        )

    def test_openai_needs_a_key(self) -> None:
        with pytest.raises(ValidationError, match="OPENAI_API_KEY"):
            LLMSettings(llm_provider="openai")
