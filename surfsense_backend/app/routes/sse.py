"""Server-Sent Events with named events: `message`, `token`, `tool-call`,
`tool-result`, `interrupt`, `done`, `error`.

`message` comes twice on a new message's run: the stored user message first,
the complete reply last. A run that stops for a person sends one `interrupt`
per question (the stored interrupt message), then `done` with status
`interrupted`.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

from app.schemas.conversations import MessageOut
from app.services.chat.events import (
    ChatEvent,
    MessageStored,
    RunFailed,
    RunInterrupted,
    RunStarted,
    RunSucceeded,
    Token,
    ToolCalled,
    ToolFinished,
)
from app.services.chat.runner import RunHandle

EVENT_STREAM = "text/event-stream"
# Proxies must pass each event on as it comes, not buffer the response.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _message(message: Any) -> dict[str, Any]:
    return MessageOut.model_validate(message).model_dump(mode="json")


def _done(run: Any) -> dict[str, Any]:
    return {"run_id": str(run.run_id), "status": run.status, "checkpoint_id": run.checkpoint_id}


def _named(event: ChatEvent) -> list[tuple[str, dict[str, Any]]]:  # noqa: PLR0911 - one per event kind
    match event:
        case RunStarted(user_message=message):
            return [("message", _message(message))] if message is not None else []
        case MessageStored(message=message):
            return [("message", _message(message))]
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
        case RunInterrupted(run=run, interrupts=interrupts):
            return [*(("interrupt", _message(m)) for m in interrupts), ("done", _done(run))]
        case RunSucceeded(run=run):
            return [("done", _done(run))]
        case RunFailed(run_id=run_id, kind=kind, detail=detail):
            return [("error", {"error": kind, "detail": detail, "run_id": run_id})]


def encode(event: ChatEvent) -> bytes:
    return b"".join(
        f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
        for name, data in _named(event)
    )


async def event_stream(handle: RunHandle) -> AsyncIterator[bytes]:
    async for event in handle.events():
        if data := encode(event):
            yield data
