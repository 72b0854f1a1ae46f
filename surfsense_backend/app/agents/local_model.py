"""A deterministic chat model that runs offline, streams its tokens and calls tools.

It is the default so the product runs with no network and tests can expect
exact replies. Its answer numbers the user's messages it can see, so a reply
shows at a glance whether the conversation's history was restored. With
tools bound it calls them by keyword (`local_step`), so every branch of an
agent can be driven from a message's words.
"""

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from app.agents.memory import RECALLED_PREFIX, REMEMBERED_PREFIX

_TOKEN = re.compile(r"\S+\s*|\s+")
# What a message must say for the model to call each tool, and what it asks for.
_SEARCH = re.compile(
    r"\b(?:search|find|look up)\b(?:\s+(?:for|my|in))*\s+(?P<topic>.+?)(?:\s+and\s+.*)?[.?!]*$", re.I
)
_NOTE = re.compile(r"\b(?:save|remember|note)\b", re.I)
_NOTE_TEXT = re.compile(r"\bnote(?:\s+that)?[:\s]+(?P<text>.+?)[.?!]*$", re.I)
SUMMARY_PREFIX = "Summary of the search results: "


def _memories(messages: Sequence[BaseMessage], prefix: str) -> list[str]:
    """The memories a system message starting with `prefix` lists, one a line."""
    told = [m.text for m in messages if isinstance(m, SystemMessage) and m.text.startswith(prefix)]
    return [line.removeprefix("- ") for text in told for line in text.splitlines()[1:]]


def local_reply(messages: Sequence[BaseMessage]) -> str:
    """The reply to a conversation: which user message this is, and its words;
    then what it stored and what it recalled of the user, if anything."""
    asked = [m for m in messages if isinstance(m, HumanMessage)]
    if not asked:
        return "Hello! Send me a message."
    said = [f"Reply {len(asked)}: you said “{asked[-1].text}”."]
    said += [f"I will remember that {fact}." for fact in _memories(messages, REMEMBERED_PREFIX)]
    recalled = _memories(messages, RECALLED_PREFIX)
    if recalled:
        said.append("I remember: " + "; ".join(recalled) + ".")
    return " ".join(said)


def tokens(text: str) -> list[str]:
    """Word-sized pieces that join back into `text` exactly."""
    return _TOKEN.findall(text)


def _turn(messages: Sequence[BaseMessage]) -> tuple[str, list[ToolMessage], str]:
    """The user's latest message, the tool results since, and the search summary given."""
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    asked = messages[start].text if start >= 0 else ""
    results = [m for m in messages[start + 1 :] if isinstance(m, ToolMessage)]
    summaries = [m.text for m in messages if isinstance(m, SystemMessage) and SUMMARY_PREFIX in m.text]
    summary = summaries[-1].split(SUMMARY_PREFIX, 1)[1] if summaries else ""
    return asked, results, summary


def _call(name: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(name=name, args=args, id=f"call_{uuid.uuid4().hex[:16]}", type="tool_call")


def _answer(results: list[ToolMessage], summary: str) -> str:
    """The final answer once the tools have run: what each one did."""
    sentences = []
    for result in results:
        if result.status == "error":
            sentences.append(f"I did not run {result.name}. {result.text}")
        elif result.name == "search_conversations" and summary:
            sentences.append(f"I searched your other conversations: {summary}")
        else:
            sentences.append(result.text)
    return " ".join(sentences)


def local_step(messages: Sequence[BaseMessage], tools: set[str]) -> AIMessage:
    """The next step for the bound tools: a search if the user asked to search
    or find, then a note if they asked to save or remember one, then an answer."""
    asked, results, summary = _turn(messages)
    done = {result.name for result in results}
    search = _SEARCH.search(asked)
    if "search_conversations" in tools and search and "search_conversations" not in done:
        return AIMessage(content="", tool_calls=[_call("search_conversations", {"query": search["topic"]})])
    if "save_note" in tools and _NOTE.search(asked) and "save_note" not in done:
        written = _NOTE_TEXT.search(asked)
        text = summary or (written["text"] if written else asked)
        return AIMessage(content="", tool_calls=[_call("save_note", {"text": text})])
    return AIMessage(content=_answer(results, summary) if results else local_reply(messages))


class LocalChatModel(BaseChatModel):
    """Offline, deterministic, streaming; `token_delay` seconds between tokens
    make its streaming visible, as a real model's would be."""

    token_delay: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "surfsense-local"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = [convert_to_openai_tool(tool)["function"]["name"] for tool in tools]
        return self.bind(tool_names=names, **kwargs)

    def _step(self, messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        names = kwargs.get("tool_names")
        return local_step(messages, set(names)) if names else AIMessage(content=local_reply(messages))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._step(messages, kwargs))])

    def _chunks(self, step: AIMessage) -> Iterator[AIMessageChunk]:
        """A tool-calling step as one chunk (as providers send a call's name and
        arguments), an answer token by token."""
        if step.tool_calls:
            calls = [
                {
                    "name": c["name"],
                    "args": json.dumps(c["args"]),
                    "id": c["id"],
                    "index": i,
                    "type": "tool_call_chunk",
                }
                for i, c in enumerate(step.tool_calls)
            ]
            yield AIMessageChunk(content="", tool_call_chunks=calls)
            return
        for token in tokens(step.text):
            yield AIMessageChunk(content=token)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for message in self._chunks(self._step(messages, kwargs)):
            chunk = ChatGenerationChunk(message=message)
            if run_manager:
                run_manager.on_llm_new_token(message.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for i, message in enumerate(self._chunks(self._step(messages, kwargs))):
            if i and self.token_delay:
                await asyncio.sleep(self.token_delay)
            chunk = ChatGenerationChunk(message=message)
            if run_manager:
                await run_manager.on_llm_new_token(message.text, chunk=chunk)
            yield chunk
