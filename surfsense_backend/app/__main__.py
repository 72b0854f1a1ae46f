"""`make run`: settings, the port, the database (embedded when DATABASE_URL is
unset), migrations, then serve. Whatever stops it before it serves is one line."""

import argparse
import asyncio
import logging
import sys
from typing import NoReturn

from pydantic import ValidationError

from app.agents.graphs_file import GraphsFileError, read_graphs_file
from app.config import describe_settings_error, get_persistence_config, get_settings, get_store_settings
from app.db import resolve_database_url
from app.db.migrate import upgrade_to_head
from app.errors import first_line
from app.main import create_app
from app.process import configure_process
from app.serve import PortUnavailable, bind, serve
from app.services.auth.secret_key import resolve_secret_key
from app.services.persistence import PersistenceError, RetryPolicy, is_database_error, is_transient
from app.services.persistence.message_checkpointer import describe_server
from app.services.store.index_config import StoreIndexError, with_index
from app.workers import Workers

logger = logging.getLogger("app")


def _refuse(reason: str) -> NoReturn:
    logger.critical("cannot start: %s", reason)
    sys.exit(1)


def _migrate(database_url: str) -> None:
    """`alembic upgrade head`, retried like every start-up step, or one line
    saying why the database cannot be used."""
    retry = RetryPolicy.from_config(get_persistence_config())
    server = describe_server(database_url)
    try:
        # Alembic runs an event loop of its own, so each attempt gets a thread.
        asyncio.run(retry.run(lambda: asyncio.to_thread(upgrade_to_head, database_url), what="migrating"))
    except Exception as exc:
        if not (is_transient(exc) or isinstance(exc, OSError)):
            if is_database_error(exc):
                # No such database, a wrong password: retrying cannot help.
                _refuse(f"PostgreSQL at {server} refused: {first_line(exc)}")
            raise
        reason = f"PostgreSQL at {server} is unreachable: {first_line(exc)}"
        if get_persistence_config().fallback != "memory":
            _refuse(reason)
        logger.warning("%s; not migrating, starting degraded (PERSISTENCE_FALLBACK=memory)", reason)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the parent process dies (make run)"
    )
    args = parser.parse_args(argv)
    configure_process(exit_with_parent=args.exit_with_parent)
    try:
        settings, config = get_settings(), get_persistence_config()
    except ValidationError as exc:
        _refuse(describe_settings_error(exc))
    try:
        # Bound first: a port in use is said before migrating, not after start-up.
        sock = bind(settings.host, settings.port)
    except PortUnavailable as exc:
        _refuse(str(exc))
    try:
        # Read before anything starts: a file with no graph to serve is one line, not a traceback.
        graphs = read_graphs_file(settings.langgraph_json)
        with_index(get_store_settings(), graphs.store, graphs.path)
    except (GraphsFileError, StoreIndexError) as exc:
        _refuse(str(exc))
    except ValidationError as exc:
        _refuse(describe_settings_error(exc))
    database_url = resolve_database_url(settings)
    _migrate(database_url)
    grace = config.checkpointer_cleanup_timeout
    if settings.web_concurrency > 1:
        logger.info("serving with %d worker processes", settings.web_concurrency)
        resolve_secret_key(settings)  # generated here, once, so every worker reads the same key
        sys.exit(Workers(settings.web_concurrency, sock, database_url, grace).run())
    try:
        serve(create_app(database_url), sock, grace)
    except PersistenceError as exc:
        _refuse(str(exc))


if __name__ == "__main__":
    main()
