"""Every error leaves the app in one shape: `{"error": <kind>, "detail": <sentence>}`."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.errors import AppError
from app.services.persistence import is_transient

logger = logging.getLogger(__name__)


def error_response(status_code: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"error": kind, "detail": detail})


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for this type only
    return error_response(exc.status_code, exc.kind, str(exc))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(422, "ValidationError", f"{where}: {first.get('msg', 'invalid request')}")


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
    app.add_exception_handler(Exception, _unexpected_error)
