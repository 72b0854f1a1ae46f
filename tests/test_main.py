"""The app's lifespan and health endpoints, on the real database."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import get_persistence_config
from app.main import create_app
from app.services.persistence import ConversationNotFound, SchemaNotMigrated
from app.services.persistence.schema_status import alembic_heads
from tests.database import drop_database, recreate_database, scratch_name


async def _client(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    # Starlette re-raises a 500's exception after answering, for the server to log.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(database_url)
    async with app.router.lifespan_context(app):
        yield app


class TestLifespan:
    async def test_ready_reports_database_pool_and_migration(self, app: FastAPI) -> None:
        async with await _client(app) as client:
            response = await client.get("/health/ready")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready"
        assert body["database"] == "ok"
        assert body["migration"] == ", ".join(sorted(alembic_heads()))
        assert body["checkpointer"]["backend"] == "postgres"
        assert body["checkpointer"]["pool"]["size"] >= 1

    async def test_live(self, app: FastAPI) -> None:
        async with await _client(app) as client:
            assert (await client.get("/health/live")).json() == {"status": "live"}

    async def test_the_retention_sweeper_runs_with_the_graph_at_hand(self, app: FastAPI) -> None:
        sweeper = app.state.sweeper
        assert sweeper is not None
        assert sweeper._task is not None
        assert not sweeper._task.done()
        assert app.state.checkpointer.rebase == app.state.chat_runner.agents.values_at

    async def test_shutdown_closes_the_checkpointer(self, database_url: str) -> None:
        app = create_app(database_url)
        async with app.router.lifespan_context(app):
            checkpointer = app.state.checkpointer
            sweeper = app.state.sweeper
            assert checkpointer.pool is not None
        assert checkpointer.pool is None
        assert sweeper._task is None

    async def test_refuses_to_start_on_an_unmigrated_database(self, test_server_url: str) -> None:
        url = await recreate_database(test_server_url, scratch_name("lifespan"))
        try:
            app = create_app(url)
            with pytest.raises(SchemaNotMigrated, match="alembic upgrade head"):
                async with app.router.lifespan_context(app):
                    pass
        finally:
            await drop_database(test_server_url, scratch_name("lifespan"))

    async def test_checks_the_schema_even_without_checkpointing(
        self, test_server_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PERSISTENCE_ENABLE_CHECKPOINTING", "false")
        get_persistence_config.cache_clear()
        url = await recreate_database(test_server_url, scratch_name("lifespan"))
        try:
            app = create_app(url)
            with pytest.raises(SchemaNotMigrated):
                async with app.router.lifespan_context(app):
                    pass
        finally:
            get_persistence_config.cache_clear()
            await drop_database(test_server_url, scratch_name("lifespan"))


class TestErrorShape:
    async def test_domain_errors_render_as_error_and_detail(self, app: FastAPI) -> None:
        router = APIRouter()

        @router.get("/boom/{kind}")
        async def boom(kind: str) -> None:
            if kind == "missing":
                raise ConversationNotFound("c-1")
            raise RuntimeError("a bug with a secret inside")

        app.include_router(router)
        async with await _client(app, raise_app_exceptions=False) as client:
            missing = await client.get("/boom/missing")
            bug = await client.get("/boom/bug")
        assert (missing.status_code, missing.json()) == (
            404,
            {"error": "ConversationNotFound", "detail": "Conversation c-1 was not found."},
        )
        assert (bug.status_code, bug.json()) == (
            500,
            {"error": "InternalError", "detail": "An unexpected error occurred."},
        )


class TestEngine:
    async def test_database_errors_never_repeat_the_statements_values(self, engine: AsyncEngine) -> None:
        with pytest.raises(DBAPIError) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1 / 0 WHERE :secret = :secret"), {"secret": "me@example.com"})
        assert "me@example.com" not in str(caught.value)
