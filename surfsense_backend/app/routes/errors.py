"""Every error leaves the app in one shape: `{"error": <kind>, "detail": <sentence>}`."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from app.asgi import HttpMiddleware, on_response_start
from app.errors import AppError
from app.services.persistence import is_transient

logger = logging.getLogger(__name__)


def error_response(
    status_code: int, kind: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"error": kind, "detail": detail}, headers=headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for this type only
    return error_response(exc.status_code, exc.kind, str(exc), headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(422, "ValidationError", f"{where}: {first.get('msg', 'invalid request')}")


def _http_error_parts(exc: HTTPException) -> tuple[int, str, str]:
    if exc.status_code == 400:
        # The framework's only 400: a body that is not JSON or a form at all
        # (bytes that are not UTF-8, say). A malformed body is a 422 here.
        return 422, "ValidationError", "body: the request body could not be parsed."
    detail: Any = exc.detail
    phrase = HTTPStatus(exc.status_code).phrase
    sentence = detail if isinstance(detail, str) and detail and detail != phrase else f"{phrase}."
    return exc.status_code, phrase.title().replace(" ", "").replace("-", ""), sentence


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for this type only
    status, kind, sentence = _http_error_parts(exc)
    return error_response(status, kind, sentence, headers=dict(exc.headers) if exc.headers else None)


def _unexpected_error(exc: Exception) -> JSONResponse:
    # A database fault that outlived the retries is a 503 the client may retry;
    # anything else is a bug, logged with its traceback and never shown.
    if is_transient(exc):
        logger.warning("database unavailable: %s", type(exc).__name__)
        return error_response(503, "DatabaseUnavailable", "The database is unavailable; try again shortly.")
    logger.error("unhandled error", exc_info=exc)
    return error_response(500, "InternalError", "An unexpected error occurred.")


class UnhandledErrors(HttpMiddleware):
    """The last word on an exception no handler took: logged once, answered,
    and the client's connection kept open for its next request.

    Starlette's own last-resort handler answers and then re-raises, so the
    server logs a second traceback and drops the keep-alive connection. A
    stream that fails after its first byte is ended cleanly instead.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started: list[Message] = []
        try:
            await self.app(scope, receive, on_response_start(send, started.append))
        except Exception as exc:
            response = _unexpected_error(exc)
            if started:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(UnhandledErrors)
