"""A run's events in the Agent Server's wire format: `metadata` first (the
run's id), then the graph's stream in the modes the client asked for, named
`mode` or `mode|namespace` for a subgraph's, and `end` or `error` last.

Every event has the run's event number as its SSE `id:`, so either SDK
rejoins after a drop with `Last-Event-ID` and misses nothing. `messages`
mode is derived from the same stored chunks as `messages-tuple`: the message
so far (`messages/partial`) after its metadata, once per message; the
encoder reads the run from its start and sends what follows `after`.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import AIMessageChunk

from app.routes.sse import with_id
from app.services.runs.event_log import Sequenced
from app.services.runs.events import (
    ChatEvent,
    RunCancelled,
    RunFailed,
    RunInterrupted,
    RunStarted,
    RunSucceeded,
    StreamChunk,
)
from app.services.runs.interrupts import jsonable
from app.services.runs.spec import STREAM_MODES

Frame = tuple[str, Any]


class AgentStreamEncoder:
    def __init__(self, modes: list[str], subgraphs: bool) -> None:
        self.modes = modes
        self.subgraphs = subgraphs
        self._partial: dict[str, AIMessageChunk] = {}

    def frames(self, event: ChatEvent) -> list[Frame]:  # noqa: PLR0911 - one per event kind
        match event:
            case RunStarted(run_id=run_id):
                return [("metadata", {"run_id": run_id, "attempt": 1})]
            case StreamChunk(mode=mode, ns=ns, data=data):
                if ns and not self.subgraphs:
                    return []
                suffix = "".join(f"|{part}" for part in ns)
                return [
                    (f"{name}{suffix}", payload)
                    for asked in self.modes
                    if STREAM_MODES[asked] == mode
                    for name, payload in self._read(asked, data)
                ]
            case RunSucceeded() | RunInterrupted():
                return [("end", None)]
            case RunFailed(kind=kind, detail=detail):
                return [("error", {"error": kind, "message": detail})]
            case RunCancelled(action=action):
                return [("error", {"error": "RunCancelled", "message": f"The run was cancelled ({action})."})]
            case _:
                return []  # the chat API's own events

    def _read(self, asked: str, data: Any) -> list[Frame]:
        if asked == "messages-tuple":
            return [("messages", data)]
        if asked == "messages":
            return self._message(*data)
        return [(asked, data)]

    def _message(self, message: dict[str, Any], metadata: dict[str, Any]) -> list[Frame]:
        """A chunk adds to its message so far; a whole message is complete."""
        if message.get("type") != "AIMessageChunk":
            return [("messages/complete", [message])]
        chunk = AIMessageChunk.model_validate(message)
        key = chunk.id or ""
        frames: list[Frame] = []
        if key not in self._partial:
            frames.append(("messages/metadata", {key: {"metadata": metadata}}))
            self._partial[key] = chunk
        else:
            self._partial[key] = self._partial[key] + chunk
        frames.append(("messages/partial", [jsonable(self._partial[key])]))
        return frames


def _encode(frames: list[Frame]) -> list[bytes]:
    return [
        f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
        if data is not None
        else f"event: {name}\n\n".encode()
        for name, data in frames
    ]


async def agent_stream(
    events: AsyncIterator[Sequenced], modes: list[str], subgraphs: bool, after: int = 0
) -> AsyncIterator[bytes]:
    """The run's stream from its first event; frames go out after `after`."""
    encoder = AgentStreamEncoder(modes, subgraphs)
    async for seq, event in events:
        frames = encoder.frames(event)
        if seq > after and frames:
            yield b"".join(with_id(_encode(frames), seq))
