"""The retry policy: which real faults are transient, and how often it tries."""

import asyncio

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import psycopg_conninfo
from app.services.persistence import MessageCheckpointer, RetryPolicy, is_database_outage, is_transient
from app.services.persistence.pool import SAVER_APPLICATION_NAME
from tests.graphs import chat, echo_graph
from tests.processes import free_port


async def _raised(awaitable: object) -> BaseException:
    try:
        await awaitable  # type: ignore[misc]
    except BaseException as exc:
        return exc
    raise AssertionError("expected a failure")


class TestIsTransient:
    async def test_a_terminated_backend_is_transient(self, database_url: str) -> None:
        conn = await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url), autocommit=True)
        async with await psycopg.AsyncConnection.connect(
            psycopg_conninfo(database_url), autocommit=True
        ) as killer:
            await killer.execute("SELECT pg_terminate_backend(%s, 60000)", (conn.info.backend_pid,))
        exc = await _raised(conn.execute("SELECT 1"))
        await conn.close()
        assert isinstance(exc, psycopg.OperationalError)
        assert is_transient(exc)

    async def test_a_refused_connection_is_transient(self) -> None:
        exc = await _raised(
            psycopg.AsyncConnection.connect(f"host=127.0.0.1 port={free_port()} connect_timeout=2")
        )
        assert is_transient(exc)

    async def test_admin_shutdown_by_sqlstate(self, database_url: str) -> None:
        async with await psycopg.AsyncConnection.connect(
            psycopg_conninfo(database_url), autocommit=True
        ) as conn:
            exc = await _raised(conn.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '57P01'; END $$"))
        assert isinstance(exc, pg_errors.AdminShutdown)
        assert is_transient(exc)

    async def test_serialization_failure_and_deadlock_are_transient(self, database_url: str) -> None:
        async with await psycopg.AsyncConnection.connect(
            psycopg_conninfo(database_url), autocommit=True
        ) as conn:
            for code in ("40001", "40P01"):
                exc = await _raised(
                    conn.execute(f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}'; END $$")
                )
                assert is_transient(exc), code

    async def test_a_deadlock_through_sqlalchemy_and_asyncpg_is_transient(self, engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            for code in ("40001", "40P01"):
                exc = await _raised(
                    conn.execute(text(f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}'; END $$"))
                )
                await conn.rollback()
                assert isinstance(exc, DBAPIError), code
                assert is_transient(exc), code

    async def test_bad_sql_and_constraint_violations_are_permanent(self, engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            syntax = await _raised(conn.execute(text("SELEC 1")))
            await conn.rollback()
            violation = await _raised(
                conn.execute(
                    text(
                        "INSERT INTO users (id, email, hashed_password) VALUES (gen_random_uuid(), NULL, 'x')"
                    )
                )
            )
            await conn.rollback()
        assert isinstance(syntax, DBAPIError)
        assert isinstance(violation, IntegrityError)
        assert not is_transient(syntax)
        assert not is_transient(violation)

    async def test_only_driver_faults_are_database_outages(self) -> None:
        refused = await _raised(
            psycopg.AsyncConnection.connect(f"host=127.0.0.1 port={free_port()} connect_timeout=2")
        )
        assert is_database_outage(refused)
        # A model provider hanging up is transient, but not the database's fault.
        provider = ConnectionAbortedError("the model provider hung up")
        assert is_transient(provider)
        assert not is_database_outage(provider)

    def test_plain_bugs_are_permanent(self) -> None:
        assert not is_transient(ValueError("bug"))
        assert not is_transient(KeyError("bug"))


class TestRetryPolicy:
    async def test_retries_transient_faults_until_success(self, database_url: str) -> None:
        attempts = 0
        port = free_port()

        async def flaky() -> str:
            nonlocal attempts
            attempts += 1
            target = f"host=127.0.0.1 port={port}" if attempts < 3 else psycopg_conninfo(database_url)
            async with await psycopg.AsyncConnection.connect(f"{target} connect_timeout=2") as conn:
                row = await (await conn.execute("SELECT 'ok'")).fetchone()
                return str(row[0]) if row else ""

        policy = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.02)
        assert await policy.run(flaky, what="flaky connect") == "ok"
        assert attempts == 3

    async def test_gives_up_after_the_budget(self) -> None:
        attempts = 0
        port = free_port()

        async def down() -> None:
            nonlocal attempts
            attempts += 1
            await psycopg.AsyncConnection.connect(f"host=127.0.0.1 port={port} connect_timeout=2")

        with pytest.raises(psycopg.OperationalError):
            await RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02).run(down, what="down")
        assert attempts == 3

    async def test_never_retries_a_permanent_fault(self, database_url: str) -> None:
        attempts = 0

        async def broken() -> None:
            nonlocal attempts
            attempts += 1
            async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url)) as conn:
                await conn.execute("SELEC 1")

        with pytest.raises(pg_errors.SyntaxError):
            await RetryPolicy(attempts=5, base_delay=0.01).run(broken, what="broken")
        assert attempts == 1

    def test_backoff_grows_and_is_capped(self) -> None:
        policy = RetryPolicy(attempts=10, base_delay=0.1, max_delay=1.0)
        for attempt in range(10):
            ceiling = min(1.0, 0.1 * 2**attempt)
            samples = [policy.delay(attempt) for _ in range(200)]
            assert all(0 <= s <= ceiling for s in samples)
        # Jitter: retrying clients do not all wake at once.
        assert len({policy.delay(5) for _ in range(20)}) > 1


class TestPoolRecovers:
    async def test_killed_pool_connections_are_replaced_before_use(
        self, checkpointer: MessageCheckpointer, database_url: str
    ) -> None:
        graph = echo_graph(await checkpointer.get_saver())
        await chat(graph, "pool-recovery", "before")
        async with await psycopg.AsyncConnection.connect(
            psycopg_conninfo(database_url), autocommit=True
        ) as admin:
            killed = await (
                await admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    (SAVER_APPLICATION_NAME,),
                )
            ).fetchone()
        assert killed is not None
        assert killed[0] >= 1
        await asyncio.sleep(0.1)
        messages = await chat(graph, "pool-recovery", "after")
        assert messages[-2:] == ["after", "echo: after"]
