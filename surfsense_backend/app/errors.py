"""The base of every error the app raises on purpose.

Each subclass carries the HTTP status it maps to; one handler renders them all
as `{"error": <class name>, "detail": <one sentence>}`. Services raise these,
never HTTPException.
"""

from typing import ClassVar


def first_line(exc: BaseException) -> str:
    """An exception's first line, for one-line messages; its type when it says nothing."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class AppError(Exception):
    status_code: ClassVar[int] = 500
    # Response headers the error needs (Retry-After, say).
    headers: dict[str, str] | None = None

    @property
    def kind(self) -> str:
        return type(self).__name__


class InternalError(AppError):
    """A fault of ours, logged where it happened; the client learns only that."""

    def __init__(self) -> None:
        super().__init__("An unexpected error occurred.")


class NotFound(AppError):
    """Missing, or not the caller's: the two answer the same."""

    status_code = 404


class Forbidden(AppError):
    """Refused to the caller whatever they send: the thing is not theirs to change."""

    status_code = 403


class Conflict(AppError):
    status_code = 409


class InvalidRequest(AppError):
    """Arguments that can never succeed as given."""

    status_code = 422


class RequestTooLarge(AppError):
    """A request body over the size the app reads (MAX_REQUEST_BYTES)."""

    status_code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")
