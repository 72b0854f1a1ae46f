"""Opaque, signed cursors: the conversation list's and search's.

A cursor is the sort key of the last item of a page (for the list, its
(updated_at, id)). It is signed so a
client cannot forge one that walks into another ordering or another user's
rows by guessing; a tampered cursor is a 422, never a 500.
"""

import base64
import binascii
import hashlib
import hmac
import uuid
from datetime import datetime

from app.errors import InvalidRequest


class InvalidCursor(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("The cursor is not one this server issued.")


def _sign(payload: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]


def sign_fields(fields: list[str], secret: str) -> str:
    """A cursor holding `fields` (none may contain "|"), signed."""
    payload = "|".join(fields).encode()
    return base64.urlsafe_b64encode(_sign(payload, secret) + payload).decode().rstrip("=")


def signed_fields(cursor: str, secret: str) -> list[str]:
    """The fields of a cursor this server signed; InvalidCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor from exc
    signature, payload = raw[:16], raw[16:]
    if not hmac.compare_digest(signature, _sign(payload, secret)):
        raise InvalidCursor
    try:
        return payload.decode().split("|")
    except UnicodeDecodeError as exc:
        raise InvalidCursor from exc


def encode_cursor(updated_at: datetime, conversation_id: uuid.UUID, secret: str) -> str:
    return sign_fields([updated_at.isoformat(), str(conversation_id)], secret)


def decode_cursor(cursor: str, secret: str) -> tuple[datetime, uuid.UUID]:
    try:
        updated_at, conversation_id = signed_fields(cursor, secret)
        return datetime.fromisoformat(updated_at), uuid.UUID(conversation_id)
    except ValueError as exc:
        raise InvalidCursor from exc
