"""Errors about messages, each with the HTTP status it maps to (see `app.errors`).

`app.services.persistence` exports them too, as it always has; they do not
derive from its `PersistenceError` (a fault of the database), since a message
refused is the caller's request, and this package imports nothing of
`persistence` (which imports it)."""

from app.errors import AppError, InvalidRequest, NotFound


class MessageNotFound(NotFound):
    def __init__(self, message_id: object) -> None:
        super().__init__(f"Message {message_id} is not in this conversation.")


class InvalidMessage(InvalidRequest):
    """A message that cannot be stored as given (empty, unknown role, NUL or a lone surrogate)."""


class MessageTooLarge(AppError):
    status_code = 413

    def __init__(self, size: int, limit: int, unit: str = "characters") -> None:
        super().__init__(f"Message content has {size} {unit}; the limit is {limit}.")
