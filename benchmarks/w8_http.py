"""W8: HTTP turns per second through the real routes, from a real server.

50 conversations at once, each sending its turns one after another, as JSON
and as named-event streams read to their end, against the app on our saver,
on the stock saver and in memory (one uvicorn process each), then against
`python -m app` with 1 and with 2 worker processes. The client runs in this
process on the same two cores as the server and the database, for every
configuration alike. (`w8_recall.py` pairs the chat agent's recall against
none on the same servers' code.)
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.workloads import median_ms, percentile_ms, put_memories

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Tell me something about durable memory for chat agents."
READY_WITHIN = 300.0
# name: (the command after `python`, extra environment)
SERVERS: dict[str, tuple[list[str], dict[str, str]]] = {
    "ours": (["-m", "uvicorn", "app.main:create_app", "--factory"], {}),
    "stock": (["-m", "uvicorn", "benchmarks.http_apps:stock", "--factory"], {}),
    "memory": (
        ["-m", "uvicorn", "app.main:create_app", "--factory"],
        {"PERSISTENCE_ENABLE_CHECKPOINTING": "false"},
    ),
    "ours_1_worker": (["-m", "app"], {"WEB_CONCURRENCY": "1"}),
    "ours_2_workers": (["-m", "app"], {"WEB_CONCURRENCY": "2"}),
    # W8's recall pair (w8_recall.py): the chat agent's memory on, and off.
    "ours_recall": (["-m", "uvicorn", "app.main:create_app", "--factory"], {"CHAT_MEMORY": "on"}),
    "ours_no_recall": (["-m", "uvicorn", "app.main:create_app", "--factory"], {"CHAT_MEMORY": "off"}),
}
# The servers W8's table compares, JSON and streamed.
COMPARED = ("ours", "stock", "memory", "ours_1_worker", "ours_2_workers")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its children (a server's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return own + sum(_cpu_seconds(int(child)) for child in children)


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, in ticks."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


@dataclass
class Server:
    url: str
    pid: int


@asynccontextmanager
async def serving(name: str, database_url: str, root: Path = ROOT) -> AsyncIterator[Server]:
    """The named server, from the checkout at `root`, on a port of its own,
    ready; stopped by its pid after."""
    args, env = SERVERS[name]
    port = _free_port()
    if args[:2] == ["-m", "uvicorn"]:
        args = [*args, "--port", str(port), "--log-level", "warning"]
    with tempfile.TemporaryDirectory(prefix="w8-") as data_dir:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=root,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "DATA_DIR": data_dir,
                "PORT": str(port),
                "PYTHONPATH": f"{root / 'surfsense_backend'}:{root}",
                "LOCAL_TOKEN_DELAY": "0",
                "SECRET_KEY": "w8-benchmark-secret-key-long-enough",
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await _ready(url, process)
            yield Server(url, process.pid)
        finally:
            if process.returncode is None:  # one that failed to start is gone already
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _ready(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + READY_WITHIN
    async with httpx.AsyncClient(base_url=url) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"the W8 server exited with {process.returncode}")
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the W8 server was not ready in time")


async def _logged_in(url: str, conversations: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=conversations, max_keepalive_connections=conversations)
    client = httpx.AsyncClient(base_url=url, timeout=120, limits=limits)
    email, password = f"w8-{time.monotonic_ns()}@example.com", "benchmark password"
    await client.post("/auth/register", json={"email": email, "password": password})
    login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return client


async def _turn(client: httpx.AsyncClient, conversation: str, streamed: bool, text: str) -> int:
    """One turn; how many memories its JSON reply says were recalled (0 streamed)."""
    url = f"/api/v1/conversations/{conversation}/messages"
    if not streamed:
        response = await client.post(url, json={"content": text})
        response.raise_for_status()
        return len(response.json()["assistant_message"]["metadata"].get("recalled", []))
    async with client.stream("POST", f"{url}?stream=events", json={"content": text}) as response:
        response.raise_for_status()
        async for _ in response.aiter_bytes():
            pass
    return 0


async def throughput(
    server: Server,
    conversations: int,
    turns: int,
    *,
    streamed: bool,
    memories: Sequence[str] = (),
    text: str = TEXT,
) -> dict[str, float]:
    """Turns per second and their latency; and where the two cores went: the
    server's CPU a turn (its workers included), this client's, and how busy
    the whole machine was (the database is the rest). Each turn says `text`;
    the user has `memories` stored before; the warm-up turns say how many a
    JSON turn recalls."""
    client = await _logged_in(server.url, conversations)
    latencies: list[float] = []
    try:
        await put_memories(client, memories)
        ids = [
            (await client.post("/api/v1/conversations", json={})).json()["id"] for _ in range(conversations)
        ]
        recalled = await asyncio.gather(
            *(_turn(client, c, streamed, text) for c in ids)
        )  # warm: first-use work

        async def converse(conversation: str) -> None:
            for _ in range(turns):
                start = time.perf_counter()
                await _turn(client, conversation, streamed, text)
                latencies.append(time.perf_counter() - start)

        server_cpu, client_cpu, machine = _cpu_seconds(server.pid), time.process_time(), _machine_busy()
        start = time.perf_counter()
        await asyncio.gather(*(converse(c) for c in ids))
        elapsed = time.perf_counter() - start
        server_cpu, client_cpu = _cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
        busy, total = (after - before for after, before in zip(_machine_busy(), machine, strict=True))
    finally:
        await client.aclose()
    return {
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": median_ms(latencies),
        "p99_ms": percentile_ms(latencies, 0.99),
        "server_cpu_ms_per_turn": server_cpu * 1000 / len(latencies),
        "client_cpu_ms_per_turn": client_cpu * 1000 / len(latencies),
        "machine_busy": busy / total if total else 0.0,
        "recalled_per_turn": sum(recalled) / len(recalled),
    }


async def w8_http(database_url: str, conversations: int, turns: int) -> dict[str, dict[str, Any]]:
    """Each compared server in turn, JSON then streamed."""
    results: dict[str, dict[str, Any]] = {}
    for name in COMPARED:
        async with serving(name, database_url) as server:
            results[name] = {
                "json": await throughput(server, conversations, turns, streamed=False),
                "streamed": await throughput(server, conversations, turns, streamed=True),
            }
        print(f"W8 {name} done", file=sys.stderr)
    return results
