"""Messages as agent-chat-ui sends them: a text block and uploads inline
(its src/lib/multimodal-utils.ts `fileToContentBlock`), and a real PNG."""

import base64
import struct
import zlib
from typing import Any


def png(width: int = 3, height: int = 2) -> str:
    """A red `width` x `height` PNG, base64: an image a browser decodes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    image = b"\x89PNG\r\n\x1a\n" + chunks
    return base64.b64encode(image).decode()


def image(name: str = "cat.png", data: str | None = None) -> dict[str, Any]:
    return {"type": "image", "mimeType": "image/png", "data": data or png(), "metadata": {"name": name}}


def pdf(name: str = "report.pdf", data: str = "JVBERi0xLjQKJcfsj6IK") -> dict[str, Any]:
    return {"type": "file", "mimeType": "application/pdf", "data": data, "metadata": {"filename": name}}


def with_text(text: str, *attachments: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}, *attachments]
