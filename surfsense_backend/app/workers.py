"""Serving with WEB_CONCURRENCY worker processes on one bound port.

Each worker is a whole app (its pools, its runs, its leases); they share only
the listening socket and PostgreSQL, where every run lives, so any worker
streams, joins, queues behind or cancels a run another one executes. The
parent restarts a worker that dies (its runs are marked interrupted when
their leases run out) and, on SIGTERM or SIGINT, stops them all gracefully.
"""

import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

logger = logging.getLogger(__name__)

# A worker that exits with an error this soon after it started is failing
# to start (the database refused, a bad setting): restarting it would only loop.
STARTUP_FAILURE_WINDOW = 10.0


def _worker(sock: socket.socket, database_url: str, grace: float) -> None:
    """A worker's whole life: its own app on the shared socket; it stops if
    the parent dies, so no worker outlives the server it belongs to."""
    from app.main import create_app  # noqa: PLC0415 - the child's own imports
    from app.process import configure_process  # noqa: PLC0415
    from app.serve import serve  # noqa: PLC0415

    configure_process(exit_with_parent=True)
    serve(create_app(database_url), sock, grace)


class Workers:
    def __init__(self, count: int, sock: socket.socket, database_url: str, grace: float) -> None:
        self.count = count
        self.args = (sock, database_url, grace)
        self.grace = grace
        self._context = multiprocessing.get_context("spawn")
        self._started: dict[int, float] = {}
        self._stopping = False

    def _start(self) -> BaseProcess:
        process = self._context.Process(target=_worker, args=self.args, name="surfsense-worker")
        process.start()
        assert process.pid is not None  # noqa: S101 - set by start()
        self._started[process.pid] = time.monotonic()
        logger.info("worker %d started", process.pid)
        return process

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; the exit code."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        workers = [self._start() for _ in range(self.count)]
        code = 0
        while not self._stopping:
            wait([w.sentinel for w in workers], timeout=0.5)
            for i, worker in enumerate(workers):
                if worker.is_alive() or self._stopping:
                    continue
                assert worker.pid is not None  # noqa: S101 - it started
                young = time.monotonic() - self._started.pop(worker.pid) < STARTUP_FAILURE_WINDOW
                # Killed by a signal (the OOM killer, an operator) is not failing to start.
                if young and worker.exitcode is not None and worker.exitcode > 0:
                    logger.critical(
                        "worker %d exited with %s while starting; stopping", worker.pid, worker.exitcode
                    )
                    self._stopping, code = True, 1
                    break
                logger.warning("worker %d died (exit %s); starting another", worker.pid, worker.exitcode)
                workers[i] = self._start()
        self._shut_down(workers)
        return code

    def _shut_down(self, workers: list[BaseProcess]) -> None:
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)
        # Each winds its runs down within the grace, then its connections.
        deadline = time.monotonic() + self.grace + 10
        for worker in workers:
            worker.join(max(deadline - time.monotonic(), 0))
            if worker.is_alive():
                worker.kill()
                worker.join()
