"""A private PgBouncer in transaction mode, in front of the test server.

Debian's `pgbouncer` package (`.ci/run` installs it). It refuses to run as
root, so it runs as the user that can reach the server: the owner of the
embedded server's socket directory, or `nobody` for a TCP server.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.config.dsn import parse_database_url
from tests.processes import failure, free_port, spawn, stop

# A bound against a hang: PgBouncer listens within milliseconds when it starts at all.
LISTENING_WITHIN = 60.0


class PgBouncer:
    def __init__(self, server_url: str) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(binary).exists():
            raise RuntimeError("TEST_VIA_PGBOUNCER=1 needs pgbouncer (apt-get install pgbouncer)")
        self.binary = binary
        self.server = parse_database_url(server_url)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.dir.chmod(0o777)
        self.process: subprocess.Popen[bytes] | None = None

    def _upstream(self) -> tuple[str, int, str]:
        host = self.server.host or str(self.server.query.get("host", "127.0.0.1"))
        if host.startswith("/"):
            return host, self.server.port or 5432, pwd.getpwuid(os.stat(host).st_uid).pw_name
        return host, self.server.port or 5432, "nobody"

    def start(self) -> None:
        host, port, user = self._upstream()
        user_name = self.server.username or "postgres"
        (self.dir / "users.txt").write_text(f'"{user_name}" ""\n')
        config = self.dir / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={host} port={port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 1000\ndefault_pool_size = 40\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\npidfile = {self.dir / 'pgbouncer.pid'}\n"
        )
        for path in self.dir.iterdir():
            path.chmod(0o666)
        log = self.dir / "pgbouncer.log"
        self.process = spawn([self.binary, "-u", user, str(config)], log_path=self.dir / "stdout.log")
        deadline = time.monotonic() + LISTENING_WITHIN
        while time.monotonic() < deadline and self.process.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        message = failure("pgbouncer did not start listening", log)
        self.stop()
        raise RuntimeError(message)

    def url_for(self, database: str) -> str:
        """The URL of `database` through this PgBouncer."""
        url = make_url("postgresql+asyncpg://127.0.0.1").set(
            port=self.port, database=database, username=self.server.username or "postgres"
        )
        return url.render_as_string(hide_password=False)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


@asynccontextmanager
async def database_via(how: str, database_url: str, server_url: str, database: str) -> AsyncIterator[str]:
    """The test database's URL `direct`ly, or through a PgBouncer started for
    the block (`pgbouncer`; the test is skipped where pgbouncer is missing)."""
    if how == "direct":
        yield database_url
        return
    try:
        bouncer = PgBouncer(server_url)
    except RuntimeError as exc:  # no pgbouncer here; .ci/run installs it
        pytest.skip(str(exc))
    bouncer.start()
    try:
        yield bouncer.url_for(database)
    finally:
        bouncer.stop()
