"""Server-Sent Events with named events: `message`, `token`, `done`, `error`.

`message` comes twice: the stored user message first, the complete reply last.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

from app.schemas.conversations import MessageOut
from app.services.chat.events import ChatEvent, MessageStored, RunFailed, RunStarted, RunSucceeded, Token
from app.services.chat.runner import RunHandle

EVENT_STREAM = "text/event-stream"
# Proxies must pass each event on as it comes, not buffer the response.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _named(event: ChatEvent) -> tuple[str, dict[str, Any]]:
    match event:
        case RunStarted(user_message=message) | MessageStored(message=message):
            return "message", MessageOut.model_validate(message).model_dump(mode="json")
        case Token(text=text):
            return "token", {"text": text}
        case RunSucceeded(run=run):
            return "done", {
                "run_id": str(run.run_id),
                "status": run.status,
                "checkpoint_id": run.checkpoint_id,
            }
        case RunFailed(run_id=run_id, kind=kind, detail=detail):
            return "error", {"error": kind, "detail": detail, "run_id": run_id}


def encode(event: ChatEvent) -> bytes:
    name, data = _named(event)
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def event_stream(handle: RunHandle) -> AsyncIterator[bytes]:
    async for event in handle.events():
        yield encode(event)
