"""A deterministic chat model that runs offline and streams its tokens.

It is the default so the product runs with no network and tests can expect
exact replies. Its answer numbers the user's messages it can see, so a reply
shows at a glance whether the conversation's history was restored.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

_TOKEN = re.compile(r"\S+\s*|\s+")


def local_reply(messages: Sequence[BaseMessage]) -> str:
    """The reply to a conversation: which user message this is, and its words."""
    asked = [m for m in messages if isinstance(m, HumanMessage)]
    if not asked:
        return "Hello! Send me a message."
    return f"Reply {len(asked)}: you said “{asked[-1].text}”."


def tokens(text: str) -> list[str]:
    """Word-sized pieces that join back into `text` exactly."""
    return _TOKEN.findall(text)


class LocalChatModel(BaseChatModel):
    """Offline, deterministic, streaming; `token_delay` seconds between tokens
    make its streaming visible, as a real model's would be."""

    token_delay: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "surfsense-local"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=local_reply(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for token in tokens(local_reply(messages)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for i, token in enumerate(tokens(local_reply(messages))):
            if i and self.token_delay:
                await asyncio.sleep(self.token_delay)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
