"""The SQLAlchemy engine and session factory, and the URL they point at."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.config import Settings, sqlalchemy_url
from app.db.embedded import start_embedded_postgres


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server's URL when it is unset."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded_postgres(settings.data_dir)


def create_engine(database_url: str, settings: Settings) -> AsyncEngine:
    url, connect_args = sqlalchemy_url(database_url, prepared_statements=settings.db_prepared_statements)

    return create_async_engine(
        url,
        connect_args=connect_args,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        # A connection that died behind a proxy is found before a request uses it.
        pool_pre_ping=True,
        # Errors and their logs name the statement, never its values: those are
        # emails, passwords' hashes and what people wrote.
        hide_parameters=True,
        pool_recycle=1800,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the body succeeds, roll back when it raises.

    The edge of a request or a background task; code inside only flushes.
    """
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
