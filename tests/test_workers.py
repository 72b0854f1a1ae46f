"""`make run` with WEB_CONCURRENCY=2: two worker processes on one port, a
worker that dies replaced, and SIGTERM stopping them all."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.processes import failure, spawn, stop
from tests.server import ROOT, wait_until_ready
from tests.test_startup import _env


def _workers(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}


async def _until_workers(pid: int, log: Path, *, without: int | None = None) -> set[int]:
    """The supervisor's two workers, once both run (and `without` is not one)."""
    for _ in range(3000):  # a bound against a hang, not a speed
        workers = _workers(pid)
        if len(workers) == 2 and without not in workers:
            return workers
        await asyncio.sleep(0.05)
    raise AssertionError(failure("never two workers", log))


async def test_two_workers_serve_and_a_dead_one_is_replaced(tmp_path: Path, database_url: str) -> None:
    log = tmp_path / "app.log"
    env = _env(tmp_path, DATABASE_URL=database_url, WEB_CONCURRENCY="2")
    process: subprocess.Popen[bytes] = spawn([sys.executable, "-m", "app"], log_path=log, cwd=ROOT, env=env)
    try:
        url = f"http://127.0.0.1:{env['PORT']}"
        await wait_until_ready(url, process, log)
        dead = min(await _until_workers(process.pid, log))
        os.kill(dead, signal.SIGKILL)
        replaced = await _until_workers(process.pid, log, without=dead)
        async with httpx.AsyncClient(base_url=url) as client:
            await wait_until_ready(url, process, log)
            assert (await client.get("/health/live")).status_code == 200
    finally:
        code = stop(process, signal.SIGTERM)
    assert code == 0, failure(f"the supervisor exited with {code}", log)
    assert f"worker {dead} died" in log.read_text()
    # The supervisor waited for its workers: none is left running.
    assert not any(Path(f"/proc/{worker}").exists() for worker in replaced)  # noqa: ASYNC240
