"""Chat models for tests: one that fails, one that waits to be let through."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from app.agents.local_model import LocalChatModel


class FailingChatModel(BaseChatModel):
    """A model whose provider is down."""

    @property
    def _llm_type(self) -> str:
        return "failing"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise ConnectionAbortedError("the model provider hung up")


class GatedChatModel(LocalChatModel):
    """The local model, holding each reply after its first token until `gate` opens."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    gate: asyncio.Event = Field(default_factory=asyncio.Event)
    started: asyncio.Event = Field(default_factory=asyncio.Event)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        first = True
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk
            if first:
                self.started.set()
                await self.gate.wait()
                first = False


class BrokenStreamChatModel(LocalChatModel):
    """The local model, whose provider hangs up after `tokens` tokens of a reply."""

    tokens: int = 2

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        sent = 0
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            if sent == self.tokens:
                raise ConnectionResetError("the model provider hung up mid-reply")
            yield chunk
            sent += 1


class FailsAfterToolModel(LocalChatModel):
    """The local model, whose provider fails when asked to answer a `tool` result."""

    tool: str = "save_note"

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if isinstance(messages[-1], ToolMessage) and messages[-1].name == self.tool:
            raise ConnectionAbortedError("the model provider hung up")
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk
