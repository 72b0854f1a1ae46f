"""An exception no handler takes: answered once, logged once, and the client's
keep-alive connection still serves its next request."""

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import StreamingResponse

from tests.processes import free_port


class Bug(Exception):
    pass


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[int]:
    """`app`, with two routes that fail, behind a real uvicorn on a port."""
    router = APIRouter()

    @router.get("/test-bug")
    async def bug() -> None:
        raise Bug("a bug")

    @router.get("/test-bug-mid-stream")
    async def bug_mid_stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first part\n"
            raise Bug("a bug after the first byte")

        return StreamingResponse(body())

    app.include_router(router)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="info"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), task
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await task


async def _exchange(port: int, paths: list[str]) -> bytes:
    """Send the requests one after another on one connection; all it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for path in paths:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


@pytest.mark.parametrize("path", ["/test-bug", "/test-bug-mid-stream"])
async def test_the_connection_serves_the_next_request(
    served: int, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        answered = await _exchange(served, [path])
    statuses = re.findall(rb"HTTP/1\.1 \d{3} [^\r]*", answered)
    first = b"HTTP/1.1 500 Internal Server Error" if path == "/test-bug" else b"HTTP/1.1 200 OK"
    assert statuses == [first, b"HTTP/1.1 200 OK"], answered
    if path == "/test-bug":
        assert b'{"error":"InternalError","detail":"An unexpected error occurred."}' in answered
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], Bug)
