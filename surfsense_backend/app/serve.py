"""Serving the app with uvicorn: the port bound before anything else starts,
and a shutdown that ends open streams within the grace.

uvicorn's own shutdown waits for every open connection before it runs the
app's shutdown, so a reply streaming for minutes held SIGTERM for as long.
Here the chat runs are wound down first (finished within the grace, or
interrupted, which ends their streams with a final event saying so); the
connections they held then close by themselves.
"""

import errno
import logging
import socket

import uvicorn
from fastapi import FastAPI

logger = logging.getLogger(__name__)


class PortUnavailable(Exception):
    """The address cannot be bound; said in one line, before any work is done."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, as uvicorn would open it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound: {exc.strerror}"
        raise PortUnavailable(f"{host}:{port} {reason}") from exc
    sock.set_inheritable(True)
    return sock


class AppServer(uvicorn.Server):
    """uvicorn's server, winding the app's runs down before it drains connections."""

    def __init__(self, app: FastAPI, grace: float, **config: object) -> None:
        super().__init__(uvicorn.Config(app, timeout_graceful_shutdown=grace, **config))  # type: ignore[arg-type]
        self.app = app
        self.grace = grace

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connections while the runs wind down
        runner = getattr(self.app.state, "chat_runner", None)
        if runner is not None:
            await runner.shutdown(self.grace)
        await super().shutdown(sockets)


def serve(app: FastAPI, sock: socket.socket, grace: float) -> None:
    AppServer(app, grace, log_level="info").run(sockets=[sock])
