"""Every error leaves the app in one shape: `{"error": <kind>, "detail": <sentence>}`."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_users.router.common import ErrorCode
from starlette.exceptions import HTTPException

from app.errors import AppError
from app.services.persistence import is_transient

logger = logging.getLogger(__name__)


# fastapi-users answers with error codes; these become statuses and sentences.
_AUTH_ERRORS: dict[str, tuple[int, str, str]] = {
    ErrorCode.REGISTER_USER_ALREADY_EXISTS: (
        409,
        "UserAlreadyExists",
        "A user with this email already exists.",
    ),
    ErrorCode.REGISTER_INVALID_PASSWORD: (422, "InvalidPassword", "The password is not acceptable."),
    ErrorCode.LOGIN_BAD_CREDENTIALS: (400, "BadCredentials", "Wrong email or password."),
}


def error_response(
    status_code: int, kind: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"error": kind, "detail": detail}, headers=headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for this type only
    return error_response(exc.status_code, exc.kind, str(exc))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(422, "ValidationError", f"{where}: {first.get('msg', 'invalid request')}")


def _http_error_parts(exc: HTTPException) -> tuple[int, str, str]:
    detail: Any = exc.detail
    code = detail.get("code") if isinstance(detail, dict) else detail
    if code in _AUTH_ERRORS:
        status, kind, sentence = _AUTH_ERRORS[code]
        reason = detail.get("reason") if isinstance(detail, dict) else None
        return status, kind, str(reason or sentence)
    phrase = HTTPStatus(exc.status_code).phrase
    sentence = detail if isinstance(detail, str) and detail and detail != phrase else f"{phrase}."
    return exc.status_code, phrase.title().replace(" ", "").replace("-", ""), sentence


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for this type only
    status, kind, sentence = _http_error_parts(exc)
    return error_response(status, kind, sentence, headers=dict(exc.headers) if exc.headers else None)


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    # A database fault that outlived the retries is a 503 the client may retry;
    # anything else is a bug, logged with its traceback and never shown.
    if is_transient(exc):
        logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        return error_response(503, "DatabaseUnavailable", "The database is unavailable; try again shortly.")
    logger.error("unhandled error", exc_info=exc)
    return error_response(500, "InternalError", "An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
