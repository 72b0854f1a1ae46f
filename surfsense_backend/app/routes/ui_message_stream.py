"""The Vercel AI SDK UI message stream, protocol v1, from a run's events.

What `useChat` and assistant-ui read: `data: {json}` frames, each with a
`type`, ending with `data: [DONE]`. The reply's text is one text part
(`text-start`, `text-delta`..., `text-end`); the ids a client reconciles its
optimistic copy with travel as data parts: `data-user-message` and
`data-assistant-message` (the stored messages) and `data-run` (sent when the
run starts and again, with the same id so clients replace it, when it ends,
with its status and checkpoint id).
"""

import json
from collections.abc import AsyncIterator
from typing import Any

from app.models import Message, ThreadRun
from app.schemas.conversations import MessageOut
from app.services.chat.events import ChatEvent, MessageStored, RunFailed, RunStarted, RunSucceeded, Token
from app.services.chat.runner import RunHandle

Part = dict[str, Any]

HEADER = {"x-vercel-ai-ui-message-stream": "v1"}
DONE = b"data: [DONE]\n\n"
# No finishReason: AI SDK 5 clients validate frames strictly and do not know it.
FINISH: Part = {"type": "finish"}


def _message(kind: str, message: Message) -> Part:
    data = MessageOut.model_validate(message).model_dump(mode="json")
    return {"type": f"data-{kind}-message", "id": str(message.id), "data": data}


def _run(run_id: str, status: str, **details: str | None) -> Part:
    return {"type": "data-run", "id": run_id, "data": {"run_id": run_id, "status": status, **details}}


class UIMessageEncoder:
    """Turns a run's events into parts, keeping the text part paired."""

    def __init__(self) -> None:
        self._text_id: str | None = None

    def parts(self, event: ChatEvent) -> list[Part]:
        match event:
            case RunStarted(run=run, user_message=user_message, reply=reply):
                return self._started(run, user_message, reply)
            case Token(text=text):
                return [{"type": "text-delta", "id": self._text_id, "delta": text}]
            case MessageStored(message=reply):
                return [*self._end_text(), _message("assistant", reply)]
            case RunSucceeded(run=run):
                done = _run(str(run.run_id), "succeeded", checkpoint_id=run.checkpoint_id)
                return [done, FINISH]
            case RunFailed(run_id=run_id, kind=kind, detail=detail):
                return [
                    *self._end_text(),
                    {"type": "error", "errorText": f"{kind}: {detail}"},
                    _run(run_id, "failed", error_kind=kind, error=detail),
                    FINISH,
                ]

    def _started(self, run: ThreadRun, user_message: Message, reply: Message) -> list[Part]:
        self._text_id = f"text-{reply.id}"
        return [
            {"type": "start", "messageId": str(reply.id)},
            _message("user", user_message),
            _run(str(run.run_id), "running", checkpoint_id=None),
            {"type": "start-step"},
            {"type": "text-start", "id": self._text_id},
        ]

    def _end_text(self) -> list[Part]:
        if self._text_id is None:
            return []
        text_id, self._text_id = self._text_id, None
        return [{"type": "text-end", "id": text_id}, {"type": "finish-step"}]


def frame(part: Part) -> bytes:
    return f"data: {json.dumps(part, ensure_ascii=False)}\n\n".encode()


async def ui_message_stream(handle: RunHandle) -> AsyncIterator[bytes]:
    encoder = UIMessageEncoder()
    async for event in handle.events():
        for part in encoder.parts(event):
            yield frame(part)
    yield DONE
