"""Server-Sent Events with named events: `message`, `token`, `tool-call`,
`tool-result`, `interrupt`, `done`, `error`.

`message` comes twice on a new message's run: the stored user message first,
the complete reply last. A run that stops for a person sends one `interrupt`
per question (the stored interrupt message), then `done` with status
`interrupted`; a cancelled run, `done` with status `cancelled`.

Every event has an `id:`, the run's event number: a client that reconnects
with `Last-Event-ID` gets exactly the events after it. While nothing
happens, a comment every STREAM_HEARTBEAT seconds keeps proxies from
closing the stream.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Header
from pydantic import AfterValidator

from app.db.text import INTEGER_MAX
from app.services.runs.event_log import Sequenced
from app.services.runs.events import (
    ChatEvent,
    MessageStored,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    RunStarted,
    RunSucceeded,
    StreamChunk,
    Token,
    ToolCalled,
    ToolFinished,
)

EVENT_STREAM = "text/event-stream"
# Proxies must pass each event on as it comes, not buffer the response.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT = b": heartbeat\n\n"
# The number of the last event a client saw: events are numbered in an integer
# column, from 1. -1 is none seen: @langchain/langgraph-sdk's joinStream sends it
# when it rejoins a run from its start (useStream after a reload).
LastEventId = Annotated[
    int, Header(alias="Last-Event-ID", ge=-1, le=INTEGER_MAX), AfterValidator(lambda seen: max(seen, 0))
]


def _done(run_id: str, status: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    return {"run_id": run_id, "status": status, "checkpoint_id": checkpoint_id}


def _named(event: ChatEvent) -> list[tuple[str, dict[str, Any]]]:  # noqa: PLR0911 - one per event kind
    match event:
        case RunStarted(user_message=message):
            return [("message", message)] if message is not None else []
        case MessageStored(message=message):
            return [("message", message)]
        case Token(text=text):
            return [("token", {"text": text})]
        case ToolCalled(call_id=call_id, name=name, args=args):
            return [("tool-call", {"tool_call_id": call_id, "name": name, "args": args})]
        case ToolFinished(call_id=call_id, name=name, args=args, content=content, status=status):
            result = {
                "tool_call_id": call_id,
                "name": name,
                "args": args,
                "result": content,
                "status": status,
            }
            return [("tool-result", result)]
        case RunInterrupted(run_id=run_id, checkpoint_id=checkpoint_id, interrupts=interrupts):
            done = ("done", _done(run_id, "interrupted", checkpoint_id))
            return [*(("interrupt", message) for message in interrupts), done]
        case RunSucceeded(run_id=run_id, checkpoint_id=checkpoint_id):
            return [("done", _done(run_id, "succeeded", checkpoint_id))]
        case RunCancelled(run_id=run_id, action=action):
            return [("done", {**_done(run_id, "cancelled"), "action": action})]
        case RunFailed(run_id=run_id, kind=kind, detail=detail):
            return [("error", {"error": kind, "detail": detail, "run_id": run_id})]
        case StreamChunk():
            return []  # the graph's own stream: the Agent Server API's format carries it


def with_id(frames: list[bytes], seq: int) -> list[bytes]:
    """`id: seq` on the last frame an event made: a client reconnecting after
    it resumes past the whole event, never halfway through it."""
    if not frames:
        return frames
    return [*frames[:-1], f"id: {seq}\n".encode() + frames[-1]]


def encode(seq: int, event: ChatEvent) -> bytes:
    frames = [
        f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
        for name, data in _named(event)
    ]
    return b"".join(with_id(frames, seq))


async def event_stream(events: AsyncIterator[Sequenced]) -> AsyncIterator[bytes]:
    async for seq, event in events:
        if data := encode(seq, event):
            yield data


async def with_heartbeats(frames: AsyncIterator[bytes], every: float) -> AsyncIterator[bytes]:
    """`frames`, and a comment whenever `every` seconds pass without one. The
    pending read is waited on again, never cancelled (that would end `frames`)."""
    pending: asyncio.Future[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(frames))
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield HEARTBEAT
                continue
            try:
                frame = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield frame
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        await frames.aclose()  # type: ignore[attr-defined]
