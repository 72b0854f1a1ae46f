"""What a message must be to be stored: a known role, words (unless it only
calls tools or is a tool's result), within the size limits, storable JSON."""

from app.config import PersistenceConfig
from app.db.content import blocks_problem, size_in_bytes
from app.db.text import unstorable_json
from app.models import ROLES
from app.services.messages.errors import InvalidMessage, MessageTooLarge
from app.services.messages.incoming import MessageIn


def check(message: MessageIn, config: PersistenceConfig) -> None:
    """Raise InvalidMessage or MessageTooLarge for a message that cannot be stored."""
    if message.role not in ROLES:
        raise InvalidMessage(f"Unknown role {message.role!r}; expected one of {', '.join(ROLES)}.")
    # An assistant message that only calls tools, or a tool's empty result, says nothing and is whole.
    wordless = message.role == "tool" or bool(message.metadata.get("tool_calls"))
    if not wordless and not message.label.strip():
        raise InvalidMessage("Message content is empty.")
    if len(message.content) > config.max_message_chars:
        raise MessageTooLarge(len(message.content), config.max_message_chars)
    if (size := size_in_bytes(message.body)) > config.max_message_bytes:
        raise MessageTooLarge(size, config.max_message_bytes, "bytes")
    if message.blocks is not None and (reason := blocks_problem(message.blocks)):
        raise InvalidMessage(f"Message content: {reason}.")
    if reason := unstorable_json(message.body):
        raise InvalidMessage(f"Message content {reason}.")
