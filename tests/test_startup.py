"""`python -m app` (what `make run` runs) as a real process: what stops it
before it serves is one line, and SIGTERM with a stream open ends it cleanly."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.models import ThreadRun, User
from tests.database import url_for
from tests.processes import failure, free_port, spawn, stop, tail
from tests.server import ROOT, wait_until_ready

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/surfsense"
DOMAIN = "startup.example.com"
# A bound against a hang: start-up that refuses does so after one retry budget.
EXITS_WITHIN = 300.0


def _env(tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "surfsense_backend"),
        "DATA_DIR": str(tmp_path),
        "PERSISTENCE_RETRY_ATTEMPTS": "2",
        "PERSISTENCE_RETRY_BASE_DELAY": "0.05",
        "PORT": str(free_port()),
        **env,
    }


@pytest.fixture
def app_process(tmp_path: Path) -> Iterator[list["subprocess.Popen[bytes]"]]:
    """Processes a test starts; each is stopped afterwards, however the test ended."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process)


async def _exit_code(process: "subprocess.Popen[bytes]", log: Path) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXITS_WITHIN
    while process.poll() is None:
        if loop.time() > deadline:
            raise AssertionError(failure(f"still running after {EXITS_WITHIN:.0f} s", log))
        await asyncio.sleep(0.05)
    return process.returncode


async def _refusal(tmp_path: Path, started: list["subprocess.Popen[bytes]"], **env: str) -> str:
    """Start the app with `env`; it must exit 1 with one CRITICAL line and no traceback."""
    log = tmp_path / "app.log"
    process = spawn([sys.executable, "-m", "app"], log_path=log, cwd=ROOT, env=_env(tmp_path, **env))
    started.append(process)
    assert await _exit_code(process, log) == 1, tail(log)
    output = log.read_text()
    critical = [line for line in output.splitlines() if "CRITICAL" in line]
    assert len(critical) == 1, output
    assert "Traceback" not in output, output
    return critical[0]


class TestRefusesInOneLine:
    async def test_an_unreachable_database(
        self, tmp_path: Path, app_process: list[subprocess.Popen[bytes]]
    ) -> None:
        line = await _refusal(tmp_path, app_process, DATABASE_URL=UNREACHABLE, PERSISTENCE_FALLBACK="fail")
        assert "cannot start: PostgreSQL at 127.0.0.1:1/surfsense is unreachable" in line

    async def test_a_database_that_does_not_exist(
        self, tmp_path: Path, app_process: list[subprocess.Popen[bytes]], test_server_url: str
    ) -> None:
        missing = url_for(test_server_url, f"no_such_db_{uuid.uuid4().hex[:8]}")
        line = await _refusal(tmp_path, app_process, DATABASE_URL=missing)
        assert "refused" in line
        assert "does not exist" in line

    @pytest.mark.parametrize(
        ("port", "said"),
        [("abc", "PORT: Input should be a valid integer"), ("99999", "PORT: Input should be less than")],
    )
    async def test_a_bad_port(
        self, tmp_path: Path, app_process: list[subprocess.Popen[bytes]], port: str, said: str
    ) -> None:
        line = await _refusal(tmp_path, app_process, DATABASE_URL=UNREACHABLE, PORT=port)
        assert said in line

    async def test_a_port_in_use_before_migrating(
        self, tmp_path: Path, app_process: list[subprocess.Popen[bytes]], database_url: str
    ) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = str(taken.getsockname()[1])
            line = await _refusal(tmp_path, app_process, DATABASE_URL=database_url, PORT=port)
        assert f"cannot start: 127.0.0.1:{port} is already in use" in line
        output = (tmp_path / "app.log").read_text()
        assert "alembic" not in output
        assert "Application startup complete" not in output

    async def test_a_langgraph_json_with_no_graph_to_serve_before_migrating(
        self, tmp_path: Path, app_process: list[subprocess.Popen[bytes]], database_url: str
    ) -> None:
        graphs = tmp_path / "langgraph.json"
        graphs.write_text('{"graphs": ')
        line = await _refusal(tmp_path, app_process, DATABASE_URL=database_url, LANGGRAPH_JSON=str(graphs))
        assert f"cannot start: {graphs}: not JSON" in line
        assert "alembic" not in (tmp_path / "app.log").read_text()


async def test_memory_serves_and_reports_degraded(
    tmp_path: Path, app_process: list[subprocess.Popen[bytes]]
) -> None:
    env = _env(tmp_path, DATABASE_URL=UNREACHABLE, PERSISTENCE_FALLBACK="memory")
    log = tmp_path / "app.log"
    process = spawn([sys.executable, "-m", "app"], log_path=log, cwd=ROOT, env=env)
    app_process.append(process)
    url = f"http://127.0.0.1:{env['PORT']}"
    await wait_until_ready(url, process, log)
    async with httpx.AsyncClient(base_url=url) as client:
        body = (await client.get("/health/ready")).json()
    assert body["status"] == "degraded"
    assert body["checkpointer"]["backend"] == "memory"
    assert "127.0.0.1:1/surfsense is unreachable" in body["checkpointer"]["degraded_reason"]
    stop(process)
    # Said once, at WARNING, not on every request.
    assert log.read_text().count("running on an in-memory saver") == 1


@pytest.fixture
async def forget_users(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    async with engine.begin() as conn:
        await conn.execute(delete(User).where(User.email.like(f"%@{DOMAIN}")))


async def _caller(client: httpx.AsyncClient) -> dict[str, str]:
    email, password = f"{uuid.uuid4().hex[:10]}@{DOMAIN}", "a long enough password"
    assert (
        await client.post("/auth/register", json={"email": email, "password": password})
    ).status_code == 201
    login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_sigterm_ends_open_streams_within_the_grace(
    tmp_path: Path,
    app_process: list[subprocess.Popen[bytes]],
    database_url: str,
    engine: AsyncEngine,
    forget_users: None,
) -> None:
    # A reply of a few hundred tokens a second apart: minutes, unless shutdown ends it.
    env = _env(
        tmp_path,
        DATABASE_URL=database_url,
        LOCAL_TOKEN_DELAY="1",
        PERSISTENCE_CHECKPOINTER_CLEANUP_TIMEOUT="1",
    )
    log = tmp_path / "app.log"
    process = spawn([sys.executable, "-m", "app"], log_path=log, cwd=ROOT, env=env)
    app_process.append(process)
    url = f"http://127.0.0.1:{env['PORT']}"
    await wait_until_ready(url, process, log)
    async with httpx.AsyncClient(base_url=url, timeout=EXITS_WITHIN) as client:
        headers = await _caller(client)
        conversation = (await client.post("/api/v1/conversations", json={}, headers=headers)).json()["id"]
        frames: list[dict[str, object]] = []
        async with client.stream(
            "POST",
            f"/api/v1/conversations/{conversation}/messages?stream=ui",
            json={"content": " ".join(["word"] * 300)},
            headers=headers,
        ) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    frames.append({"type": "[DONE]"})
                    break
                frames.append(json.loads(line.removeprefix("data: ")))
                if frames[-1]["type"] == "text-delta" and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
    assert await _exit_code(process, log) == 0, tail(log)
    errors = [frame for frame in frames if frame["type"] == "error"]
    assert [str(e["errorText"]).split(":")[0] for e in errors] == ["Interrupted"], frames[-6:]
    assert [frame["type"] for frame in frames[-2:]] == ["finish", "[DONE]"]
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        run = await session.scalar(
            select(ThreadRun).where(ThreadRun.conversation_id == uuid.UUID(conversation))
        )
    assert run is not None
    assert (run.status, run.error_kind) == ("failed", "Interrupted")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
async def test_the_app_stops_with_the_make_that_ran_it(
    tmp_path: Path, app_process: list[subprocess.Popen[bytes]], database_url: str, sig: signal.Signals
) -> None:
    """A signal to make alone, not to its process group, stops the app too:
    GNU make passes SIGTERM on, and a killed make takes the app with it."""
    env = _env(tmp_path, DATABASE_URL=database_url)
    log = tmp_path / "make.log"
    make = spawn(["make", "--no-print-directory", "run"], log_path=log, cwd=ROOT, env=env)
    app_process.append(make)
    url = f"http://127.0.0.1:{env['PORT']}"
    await wait_until_ready(url, make, log)
    make.send_signal(sig)
    await _exit_code(make, log)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXITS_WITHIN
    async with httpx.AsyncClient(base_url=url) as client:
        while True:
            try:
                await client.get("/health/live")
            except httpx.TransportError:
                break
            assert loop.time() < deadline, failure("the app still serves after make stopped", log)
            await asyncio.sleep(0.1)
