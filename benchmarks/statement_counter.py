"""A TCP proxy in front of PostgreSQL that counts the statements clients send.

It reads the frontend side of the wire protocol: after the startup packet
(and an SSLRequest or GSSENCRequest the server declines), each message is a
type byte and a length. A simple `Query` ('Q') or an `Execute` ('E') of the
extended protocol is one statement, whichever driver sent it (asyncpg,
psycopg, a pipeline): what the server runs, counted where it arrives. Only
unencrypted connections can be read (the test and benchmark servers'); one
the server encrypts is passed on, uncounted past its startup.
"""

import asyncio
import struct
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

from benchmarks.latency_proxy import upstream

_NEGOTIATIONS = {80877103, 80877104}  # SSLRequest, GSSENCRequest
STATEMENTS = (b"Q", b"E")


class StatementCounter:
    """Counts messages by type ('Q', 'E', 'P'...) across every connection."""

    def __init__(self, target: str, target_port: int) -> None:
        # A host, or a socket directory as libpq names it.
        self.target = (target, target_port)
        self.messages: Counter[bytes] = Counter()
        self.port = 0

    @property
    def statements(self) -> int:
        return sum(self.messages[kind] for kind in STATEMENTS)

    def url(self, database_url: str) -> str:
        """`database_url` pointed at this proxy, unencrypted so it can be read."""
        url = make_url(database_url)
        query = {k: v for k, v in url.query.items() if k not in {"host", "ssl", "sslmode"}}
        url = url.set(host="127.0.0.1", port=self.port, query={**query, "ssl": "disable"})
        return url.render_as_string(hide_password=False)

    async def _client_side(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # startup: length-prefixed packets without a type byte
            (length,) = struct.unpack("!I", header := await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            writer.write(header + body)
            await writer.drain()
            if len(body) < 4 or struct.unpack("!I", body[:4])[0] not in _NEGOTIATIONS:
                break
            # The server answers one byte; 'S' would turn the rest into TLS.
        while True:
            kind = await reader.readexactly(1)
            header = await reader.readexactly(4)
            (length,) = struct.unpack("!I", header)
            body = await reader.readexactly(length - 4)
            self.messages[kind] += 1
            writer.write(kind + header + body)
            await writer.drain()

    @staticmethod
    async def _server_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await upstream(*self.target)
        sides = [
            asyncio.ensure_future(self._client_side(client_reader, server_writer)),
            asyncio.ensure_future(self._server_side(server_reader, client_writer)),
        ]
        # When either end hangs up, so does the proxy, to both.
        await asyncio.wait(sides, return_when=asyncio.FIRST_COMPLETED)
        for writer in (server_writer, client_writer):
            writer.close()
        for side in sides:
            side.cancel()
        await asyncio.gather(*sides, return_exceptions=True)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator["StatementCounter"]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


def counter_for(database_url: str) -> StatementCounter:
    """A counter in front of the server of `database_url`."""
    url = make_url(database_url)
    socket_dir = url.query.get("host")
    target = socket_dir if isinstance(socket_dir, str) else (url.host or "127.0.0.1")
    return StatementCounter(target, url.port or 5432)
