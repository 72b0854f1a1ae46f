"""Shared fixtures: one migrated database per test session, a savepoint per test."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import PersistenceConfig, Settings
from app.db import create_engine
from app.models import Conversation, User
from app.services.persistence import MessageCheckpointer
from tests.database import drop_database, migrated_database, scratch_name, server_url
from tests.factories import add_conversation
from tests.pgbouncer import PgBouncer

TEST_DATABASE = scratch_name("main")
# Replies at full speed; the browser tests, which watch one stream in, slow theirs.
os.environ["LOCAL_TOKEN_DELAY"] = "0"
# Every test logs in from one address; the throttle's own test sets its limit.
os.environ["LOGIN_MAX_FAILURES"] = "100000"


# The app over HTTP, and registered callers: fixtures for routes, faults and e2e tests.
pytest_plugins = ["tests.http_client"]


@pytest.fixture(scope="session")
def test_server_url() -> str:
    return server_url()


@pytest.fixture(scope="session")
async def database_url(test_server_url: str) -> AsyncIterator[str]:
    """The session's database, built by the migrations (so they are tested too).

    With TEST_VIA_PGBOUNCER=1 the code under test reaches it through a
    PgBouncer in transaction mode that the session starts for itself.
    """
    url = await migrated_database(test_server_url, TEST_DATABASE)
    bouncer = PgBouncer(test_server_url) if os.environ.get("TEST_VIA_PGBOUNCER") == "1" else None
    if bouncer is not None:
        bouncer.start()
    try:
        yield bouncer.url_for(TEST_DATABASE) if bouncer else url
    finally:
        if bouncer is not None:
            bouncer.stop()
        await drop_database(test_server_url, TEST_DATABASE)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, Settings(database_url=database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test.

    The code under test may commit: with `create_savepoint` its commits
    release savepoints, and the outer rollback still undoes everything.
    """
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@pytest.fixture
def persistence_config() -> PersistenceConfig:
    # Short retry pauses keep fault tests quick; the policy is the same.
    return PersistenceConfig(retry_base_delay=0.05, retry_max_delay=0.5, pool_max_size=20)


@asynccontextmanager
async def opened_checkpointer(
    database_url: str, config: PersistenceConfig
) -> AsyncIterator[MessageCheckpointer]:
    """A MessageCheckpointer with its own pool, closed after."""
    checkpointer = MessageCheckpointer(database_url, config)
    await checkpointer.initialize()
    try:
        yield checkpointer
    finally:
        await checkpointer.cleanup()


@pytest.fixture
async def checkpointer(
    database_url: str, persistence_config: PersistenceConfig
) -> AsyncIterator[MessageCheckpointer]:
    async with opened_checkpointer(database_url, persistence_config) as opened:
        yield opened


Owner = Callable[..., Awaitable[tuple[User, Conversation]]]


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions that really commit, for tests where the saver's own connections
    must see the rows; every user they created is deleted afterwards (cascading
    to conversations, messages, runs and checkpoints)."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        started = set(await s.scalars(select(User.id)))
    yield sessions
    async with sessions() as s:
        await s.execute(delete(User).where(User.id.not_in(started)))
        await s.commit()


@pytest.fixture
def make_conversation(committed: async_sessionmaker[AsyncSession]) -> Owner:
    """Commit a new user and a conversation of theirs."""

    async def make(title: str | None = None) -> tuple[User, Conversation]:
        async with committed() as s:
            user, conversation = await add_conversation(s, title=title)
            await s.commit()
            return user, conversation

    return make
