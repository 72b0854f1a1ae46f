"""`python -m app` (what `make run` runs) with the database down, as a real process."""

import asyncio
import os
import socket
import sys

import httpx

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/surfsense"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(fallback: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": UNREACHABLE,
        "PERSISTENCE_FALLBACK": fallback,
        "PERSISTENCE_RETRY_ATTEMPTS": "2",
        "PERSISTENCE_RETRY_BASE_DELAY": "0.05",
        "PORT": str(port),
    }


async def test_fail_exits_with_one_line_naming_the_host() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        env=_env("fail", _free_port()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), timeout=120))[0].decode()
    assert process.returncode == 1
    critical = [line for line in output.splitlines() if "CRITICAL" in line]
    assert len(critical) == 1, output
    assert "cannot start: PostgreSQL at 127.0.0.1:1/surfsense is unreachable" in critical[0]
    assert "Traceback" not in output


async def test_memory_serves_and_reports_degraded() -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        env=_env("memory", port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        ready = None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(600):
                try:
                    ready = await client.get("/health/ready")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        assert ready is not None
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "degraded"
        assert body["checkpointer"]["backend"] == "memory"
        assert "127.0.0.1:1/surfsense is unreachable" in body["checkpointer"]["degraded_reason"]
    finally:
        process.terminate()
        output = (await asyncio.wait_for(process.communicate(), timeout=60))[0].decode()
    # Said once, at WARNING, not on every request.
    assert output.count("running on an in-memory saver") == 1
