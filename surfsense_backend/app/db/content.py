"""A message's content: a string, or a list of content blocks.

LangChain messages (and every client of the Agent Server) carry either form.
agent-chat-ui sends a person's words as a text block and their uploads inline,
`{"type": "image" | "file", "mimeType", "data": <base64>, "metadata": {"name" |
"filename"}}`; LangChain's own blocks spell it `mime_type` with `base64` (or
`data` with `source_type: "base64"`). The blocks are stored as given; what is
searched, previewed and titled is their text only.
"""

import json
from typing import Any

Content = str | list[Any]


def text_of(content: Content) -> str:
    """The text a person reads: the string, or the text blocks (and bare
    strings) of a list joined as LangChain's `BaseMessage.text` joins them."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def attachment_name(block: Any) -> str | None:
    """The file name a non-text block was sent with (or its type), None for text."""
    if not isinstance(block, dict) or block.get("type") == "text":
        return None
    for where in (block.get("metadata"), block.get("extras"), block):
        if isinstance(where, dict):
            for key in ("filename", "name"):
                if isinstance(where.get(key), str) and where[key].strip():
                    return str(where[key])
    return str(block.get("type", "attachment"))


def label_of(content: Content) -> str:
    """What a preview or a title shows: the text, else the attachments' names."""
    text = text_of(content)
    if text.strip() or isinstance(content, str):
        return text
    return ", ".join(name for name in map(attachment_name, content) if name)


def size_in_bytes(content: Content) -> int:
    """The content's size as it is stored: UTF-8 text, or compact JSON."""
    if isinstance(content, str):
        return len(content.encode("utf-8", "surrogatepass"))
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return len(encoded.encode("utf-8", "surrogatepass"))


def blocks_problem(content: list[Any]) -> str | None:
    """Why a list is not content blocks (each a string or an object with a
    string `type`), or None when it is."""
    for index, block in enumerate(content):
        if isinstance(block, str):
            continue
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return f"block {index} is not a content block (an object with a string 'type')"
    return None
