"""`make run`: database (embedded when DATABASE_URL is unset), migrations, then serve."""

import asyncio
import logging
import signal
import sys

import uvicorn

from app.config import get_persistence_config, get_settings
from app.db import resolve_database_url
from app.db.migrate import upgrade_to_head
from app.main import create_app
from app.services.persistence import PersistenceError, RetryPolicy, is_transient
from app.services.persistence.message_checkpointer import describe_server

logger = logging.getLogger("app")


def _migrate(database_url: str) -> None:
    """`alembic upgrade head`, retried like every start-up step, or one line
    saying why the database cannot be reached."""
    retry = RetryPolicy.from_config(get_persistence_config())
    try:
        # Alembic runs an event loop of its own, so each attempt gets a thread.
        asyncio.run(retry.run(lambda: asyncio.to_thread(upgrade_to_head, database_url), what="migrating"))
    except Exception as exc:
        if not (is_transient(exc) or isinstance(exc, OSError)):
            raise
        reason = f"PostgreSQL at {describe_server(database_url)} is unreachable: {str(exc).splitlines()[0]}"
        if get_persistence_config().fallback != "memory":
            logger.critical("cannot start: %s", reason)
            sys.exit(1)
        logger.warning("%s; not migrating, starting degraded (PERSISTENCE_FALLBACK=memory)", reason)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if sys.platform == "win32":
        # psycopg's async mode cannot run on the default Proactor loop.
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())  # type: ignore[attr-defined,unused-ignore]
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through
    # Python then runs atexit, which stops the embedded PostgreSQL server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = get_settings()
    database_url = resolve_database_url(settings)
    _migrate(database_url)
    try:
        uvicorn.run(create_app(database_url), host=settings.host, port=settings.port, log_level="info")
    except PersistenceError as exc:
        logger.critical("cannot start: %s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
