"""A TCP proxy that holds every byte for a fixed time each way.

W1's latency variant puts it between the savers and PostgreSQL: a database
across a network, as in most deployments, where a saver that serialises its
calls behind one lock pays the round trip once per call for everyone.
(`tc netem` would do it in the kernel, but needs a module not every machine
has.) Run as `python -m benchmarks.latency_proxy HOST_OR_SOCKET PORT ONE_WAY_MS`;
it prints the port it listens on, then serves until terminated.
"""

import asyncio
import sys

Item = tuple[float, bytes] | None


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy reader to writer, each chunk `delay` seconds after it arrived, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Item] = asyncio.Queue()

    async def deliver() -> None:
        while (item := await queue.get()) is not None:
            due, data = item
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    delivering = asyncio.create_task(deliver())
    try:
        while data := await reader.read(1 << 16):
            queue.put_nowait((loop.time() + delay, data))
    finally:
        queue.put_nowait(None)
        await delivering
        writer.close()


async def upstream(target: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to PostgreSQL at a host, or in a socket directory."""
    if target.startswith("/"):  # a socket directory, as libpq names it
        return await asyncio.open_unix_connection(f"{target}/.s.PGSQL.{port}")
    return await asyncio.open_connection(target, port)


async def serve(target: str, port: int, delay: float) -> None:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await upstream(target, port)
        await asyncio.gather(
            _pump(client_reader, server_writer, delay),
            _pump(server_reader, client_writer, delay),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000))
