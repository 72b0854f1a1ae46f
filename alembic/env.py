"""Alembic environment, from the async template.

The URL is the app's own (settings, or the embedded server); a caller that
already resolved one passes it as `config.attributes["database_url"]`.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401 - registers every table on Base.metadata
from app.config import get_settings, sqlalchemy_url
from app.db import Base, resolve_database_url
from app.services.store.migrations import VECTOR_TABLES

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave out the store's vector tables, which exist only where the server has pgvector."""
    return not (type_ == "table" and reflected and compare_to is None and name in VECTOR_TABLES)


def _database_url() -> str:
    given = config.attributes.get("database_url")
    return given if given else resolve_database_url(get_settings())


def run_migrations_offline() -> None:
    url, _ = sqlalchemy_url(_database_url())
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        # A migration waiting on a busy table must fail fast, not queue every
        # request of the running app behind its lock.
        connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        context.run_migrations()


async def run_async_migrations() -> None:
    url, connect_args = sqlalchemy_url(_database_url())
    engine = create_async_engine(url, connect_args=connect_args, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
