"""The app in a real uvicorn process of its own, that a test can stop and start again."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import User
from tests.processes import failure, free_port, spawn, stop

ROOT = Path(__file__).resolve().parents[1]
# A bound against a hang, not a speed: a loaded machine may take this long to
# import, migrate and open its pools, and a server that exits is seen at once.
READY_WITHIN = 300.0


async def wait_until_ready(url: str, process: "subprocess.Popen[bytes]", log: Path) -> None:
    """Until `url`/health/ready answers 200; fails with the log if the process
    exits first or READY_WITHIN passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_WITHIN
    async with httpx.AsyncClient(base_url=url) as client:
        while loop.time() < deadline:
            if process.poll() is not None:
                raise AssertionError(failure(f"the server exited with {process.returncode}", log))
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(failure(f"the server was not ready within {READY_WITHIN:.0f} s", log))


class Server:
    """`uvicorn app.main:create_app` on a port it keeps across restarts."""

    def __init__(self, database_url: str, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT / "surfsense_backend"),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = spawn(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(self.port)],
            log_path=self.log,
            cwd=ROOT,
            env=self.env,
        )
        try:
            await wait_until_ready(self.url, self.process, self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Stop the process (SIGKILL after a grace); its exit code, None if none ran."""
        if self.process is None:
            return None
        code = stop(self.process, sig)
        self.process = None
        return code


@asynccontextmanager
async def running(
    database_url: str, data_dir: Path, engine: AsyncEngine, domain: str, **env: str
) -> AsyncIterator[Server]:
    """A started server, stopped afterwards, and the users registered at `domain` deleted."""
    server = Server(database_url, data_dir, **env)
    await server.start()
    try:
        yield server
    finally:
        server.stop()
        async with engine.begin() as conn:
            await conn.execute(delete(User).where(User.email.like(f"%@{domain}")))


@asynccontextmanager
async def one_user_on(
    a: Server, b: Server, domain: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A user registered at `domain`, logged in: a client of theirs on each server."""
    email, password = f"{uuid.uuid4().hex[:10]}@{domain}", "a long enough password"
    async with httpx.AsyncClient(base_url=a.url, timeout=120) as on_a:
        await on_a.post("/auth/register", json={"email": email, "password": password})
        login = await on_a.post("/auth/jwt/login", data={"username": email, "password": password})
        on_a.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        async with httpx.AsyncClient(base_url=b.url, timeout=120, headers=on_a.headers) as on_b:
            yield on_a, on_b
