"""The Vercel AI SDK UI message stream, protocol v1, from a run's events.

What `useChat` and assistant-ui read: `data: {json}` frames, each with a
`type`, ending with `data: [DONE]`. Each stretch of the agent's text is a
text part (`text-start`, `text-delta`..., `text-end`); each tool call is a
tool part under the AI SDK's own names (`tool-input-start`,
`tool-input-available`, then `tool-output-available` or `tool-output-error`);
an interrupt is a `data-interrupt` part (the stored interrupt message). The
ids a client reconciles its optimistic copy with travel as data parts:
`data-user-message` and `data-assistant-message` (the stored messages) and
`data-run` (sent when the run starts and again, with the same id so clients
replace it, when it ends, with its status and checkpoint id).

Each event's last frame carries its number as the SSE `id`. The encoder
keeps state (open text and steps, tools announced), so a stream resumed
after an event reads the run from its start and sends only what follows.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

from app.routes.sse import with_id
from app.services.runs.event_log import Sequenced
from app.services.runs.events import (
    ChatEvent,
    Json,
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

Part = dict[str, Any]

HEADER = {"x-vercel-ai-ui-message-stream": "v1"}
DONE = b"data: [DONE]\n\n"
# No finishReason: AI SDK 5 clients validate frames strictly and do not know it.
FINISH: Part = {"type": "finish"}


def _message(kind: str, message: Json) -> Part:
    return {"type": f"data-{kind}-message", "id": str(message["id"]), "data": message}


def _interrupt(message: Json) -> Part:
    return {
        "type": "data-interrupt",
        "id": str(message["metadata"].get("interrupt_id", message["id"])),
        "data": message,
    }


def _run(run_id: str, status: str, **details: str | None) -> Part:
    return {"type": "data-run", "id": run_id, "data": {"run_id": run_id, "status": status, **details}}


class UIMessageEncoder:
    """Turns a run's events into parts, keeping text parts paired and every
    tool result after its call (a resumed run announces the call again)."""

    def __init__(self) -> None:
        self._run_id = ""
        self._text_id: str | None = None
        self._texts = 0
        self._announced: set[str] = set()
        self._step_open = False

    def parts(self, event: ChatEvent) -> list[Part]:  # noqa: PLR0911 - one per event kind
        match event:
            case RunStarted(run_id=run_id, user_message=user_message, reply=reply):
                return self._started(run_id, user_message, reply)
            case Token(text=text):
                return [*self._open_text(), {"type": "text-delta", "id": self._text_id, "delta": text}]
            case ToolCalled(call_id=call_id, name=name, args=args):
                return [*self._end_text(), *self._announce(call_id, name, args)]
            case ToolFinished(call_id=call_id, name=name, args=args, content=content, status=status):
                if status == "error":
                    result: Part = {"type": "tool-output-error", "toolCallId": call_id, "errorText": content}
                else:
                    result = {"type": "tool-output-available", "toolCallId": call_id, "output": content}
                return [*self._end_text(), *self._announce(call_id, name, args), result]
            case MessageStored(message=reply):
                return [*self._close_step(), _message("assistant", reply)]
            case RunSucceeded(run_id=run_id, checkpoint_id=checkpoint_id):
                done = _run(run_id, "succeeded", checkpoint_id=checkpoint_id)
                return [*self._close_step(), done, FINISH]
            case RunInterrupted(run_id=run_id, checkpoint_id=checkpoint_id, interrupts=interrupts):
                stopped = _run(run_id, "interrupted", checkpoint_id=checkpoint_id)
                return [*self._close_step(), *(_interrupt(m) for m in interrupts), stopped, FINISH]
            case RunCancelled(run_id=run_id, action=action):
                return [*self._close_step(), _run(run_id, "cancelled", action=action), FINISH]
            case RunFailed(run_id=run_id, kind=kind, detail=detail):
                return [
                    *self._close_step(),
                    {"type": "error", "errorText": f"{kind}: {detail}"},
                    _run(run_id, "failed", error_kind=kind, error=detail),
                    FINISH,
                ]
            case StreamChunk():
                return []  # the graph's own stream: the Agent Server API's format carries it

    def _started(self, run_id: str, user_message: Json | None, reply: Json | None) -> list[Part]:
        self._run_id = run_id
        self._step_open = True
        start: Part = {"type": "start", "messageId": str(reply["id"])} if reply else {"type": "start"}
        return [
            start,
            *([_message("user", user_message)] if user_message else []),
            _run(self._run_id, "running", checkpoint_id=None),
            {"type": "start-step"},
        ]

    def _open_text(self) -> list[Part]:
        if self._text_id is not None:
            return []
        self._texts += 1
        self._text_id = f"text-{self._run_id}-{self._texts}"
        return [{"type": "text-start", "id": self._text_id}]

    def _end_text(self) -> list[Part]:
        if self._text_id is None:
            return []
        text_id, self._text_id = self._text_id, None
        return [{"type": "text-end", "id": text_id}]

    def _announce(self, call_id: str, name: str, args: dict[str, Any]) -> list[Part]:
        if call_id in self._announced:
            return []
        self._announced.add(call_id)
        return [
            {"type": "tool-input-start", "toolCallId": call_id, "toolName": name},
            {"type": "tool-input-available", "toolCallId": call_id, "toolName": name, "input": args},
        ]

    def _close_step(self) -> list[Part]:
        ended = self._end_text()
        if not self._step_open:
            return ended
        self._step_open = False
        return [*ended, {"type": "finish-step"}]


def frame(part: Part) -> bytes:
    return f"data: {json.dumps(part, ensure_ascii=False)}\n\n".encode()


async def ui_message_stream(events: AsyncIterator[Sequenced], after: int = 0) -> AsyncIterator[bytes]:
    """The run's UI message stream; `events` from the run's first, frames
    sent from the event after `after` on."""
    encoder = UIMessageEncoder()
    async for seq, event in events:
        frames = [frame(part) for part in encoder.parts(event)]
        if seq > after:
            yield b"".join(with_id(frames, seq))
    yield DONE
