"""Processes that tests start: tied to the test run, waited on by condition,
stopped by their pid on every path."""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

# How long a stopped process gets to exit by itself before it is killed.
STOP_GRACE = 60.0
# If the test run dies (killed, timed out), the kernel ends its servers too
# instead of leaving them up: PR_SET_PDEATHSIG, set in the child before it
# execs the command (a preexec_fn would do it in a forked copy of a process
# with threads, which may deadlock).
_TIED_TO_PARENT = (
    "import ctypes, os, signal, sys; "
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def _tied(args: list[str]) -> list[str]:
    return [sys.executable, "-c", _TIED_TO_PARENT, *args] if sys.platform == "linux" else args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(
    args: list[str],
    *,
    log_path: os.PathLike[str] | str,
    cwd: os.PathLike[str] | str | None = None,
    env: dict[str, str] | None = None,
) -> "subprocess.Popen[bytes]":
    """Start `args` with stdout and stderr in `log_path`: a file never fills and
    blocks the child, as an unread pipe does, and is there to print on failure."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(_tied(args), stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env)


def stop(process: "subprocess.Popen[bytes]", sig: int = signal.SIGTERM) -> int:
    """Signal `process`, wait for it, and kill it if it outstays STOP_GRACE."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def tail(log_path: os.PathLike[str] | str, lines: int = 60) -> str:
    try:
        with open(log_path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def failure(what: str, log_path: os.PathLike[str] | str, detail: Callable[[], str] | None = None) -> str:
    """An assertion message: what went wrong, and the end of the process's log."""
    extra = f"\n{detail()}" if detail else ""
    return f"{what}{extra}\n--- last lines of {log_path} ---\n{tail(log_path)}"
