"""The one shape every error response has."""

from pydantic import BaseModel


class ErrorOut(BaseModel):
    error: str
    detail: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries so /docs shows the error shape for these statuses."""
    return {status: {"model": ErrorOut} for status in statuses}
