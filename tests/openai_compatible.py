"""An OpenAI-compatible chat completions server on loopback, for the code path
`LLM_PROVIDER=openai` takes: LangChain's ChatOpenAI, its tool binding, its
streamed tool calls. It plays a model that follows the research agent's
prompt: search, then save the summary as a note, then answer; offered no
tools, it repeats what it was told; offered others, it calls the first.
Its embeddings (for `STORE_EMBEDDINGS=openai:...`) are made from the text:
each word adds to one dimension chosen by its hash, so texts that share
words are near, and the same text always gets the same vector."""

import asyncio
import hashlib
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from app.agents.local_model import SUMMARY_PREFIX
from tests.processes import free_port


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _call(name: str, args: dict[str, Any], n: int) -> list[bytes]:
    call = {
        "index": 0,
        "id": f"call_{n}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }
    return [_chunk({"role": "assistant", "content": None, "tool_calls": [call]}), _chunk({}, "tool_calls")]


def _answer(text: str) -> list[bytes]:
    words = text.split(" ")
    pieces = [_chunk({"role": "assistant", "content": ""})]
    pieces += [
        _chunk({"content": word + (" " if i < len(words) - 1 else "")}) for i, word in enumerate(words)
    ]
    return [*pieces, _chunk({}, "stop")]


def _any_tool(body: dict[str, Any], n: int) -> list[bytes]:
    """Any other agent's: the first tool offered, given the person's words for
    each required argument; then an answer with its result."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        return _answer(f"Done. {last['content']}")
    tool = body["tools"][0]["function"]
    required = tool.get("parameters", {}).get("required", [])
    return _call(tool["name"], {name: last["content"] for name in required}, n)


def _reply(body: dict[str, Any], n: int) -> list[bytes]:
    messages = body["messages"]
    last = messages[-1]
    if not body.get("tools"):
        return _answer(f"You said: {last['content']}")
    if "search_conversations" not in {t["function"]["name"] for t in body["tools"]}:
        return _any_tool(body, n)
    if last["role"] == "user":
        return _call("search_conversations", {"query": "durable memory"}, n)
    ran = {m.get("tool_call_id") for m in messages if m["role"] == "tool"}
    calls = [c for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    names = {c["function"]["name"] for c in calls if c["id"] in ran}
    if names == {"search_conversations"}:
        system = next(m["content"] for m in messages if m["role"] == "system")
        return _call("save_note", {"text": system.split(SUMMARY_PREFIX, 1)[1]}, n)
    return _answer(f"Done. {last['content']}")


def embedding(text: str, dims: int) -> list[float]:
    """A unit vector with a weight on each word's dimension (by its hash)."""
    vector = [0.0] * dims
    for word in text.lower().split():
        digest = hashlib.sha256(word.strip(".,!?").encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class OpenAICompatible:
    """Records each request it was sent."""

    def __init__(self, embedding_dims: int = 256) -> None:
        self.requests: list[dict[str, Any]] = []
        self.embedding_dims = embedding_dims
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)
        self.app.post("/v1/embeddings")(self._embed)

    async def _embed(self, request: Request) -> dict[str, Any]:
        body = await request.json()
        self.requests.append(body)
        given = body["input"]
        texts = [given] if isinstance(given, str) else given
        # langchain-openai sends token ids (tiktoken's) unless told not to: each id a word.
        texts = [" ".join(map(str, text)) if isinstance(text, list) else text for text in texts]
        data = [
            {"object": "embedding", "index": i, "embedding": embedding(text, self.embedding_dims)}
            for i, text in enumerate(texts)
        ]
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        return {"object": "list", "data": data, "model": body["model"], "usage": usage}

    async def _complete(self, request: Request) -> StreamingResponse:
        body = await request.json()
        self.requests.append(body)
        frames = [*_reply(body, len(self.requests)), b"data: [DONE]\n\n"]

        async def stream() -> AsyncIterator[bytes]:
            for frame in frames:
                yield frame

        return StreamingResponse(stream(), media_type="text/event-stream")

    @asynccontextmanager
    async def serving(self) -> AsyncIterator["OpenAICompatible"]:
        server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            yield self
        finally:
            server.should_exit = True
            await task
