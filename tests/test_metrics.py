"""Prometheus metrics at /metrics, for the bearer of METRICS_TOKEN only."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from app.config import get_settings
from tests.http_client import Caller, asgi_client

TOKEN = "a metrics token for the tests"


@pytest.fixture
def metrics_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield {"Authorization": f"Bearer {TOKEN}"}
    get_settings.cache_clear()


def _value(body: str, prefix: str) -> float:
    lines = [line for line in body.splitlines() if line.startswith(prefix)]
    assert lines, f"no sample {prefix}"
    return float(lines[0].rsplit(" ", 1)[1])


async def test_requests_checkpoints_and_pools_are_measured(
    app: FastAPI, alice: Caller, metrics_token: dict[str, str]
) -> None:
    conversation = await alice.conversation()
    assert (await alice.send(conversation, "measure me")).status_code == 200
    async with asgi_client(app) as client:
        response = await client.get("/metrics", headers=metrics_token)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    route = "/api/v1/conversations/{conversation_id}/messages"
    assert (
        _value(body, f'surfsense_http_request_seconds_count{{method="POST",route="{route}",status="200"}}')
        >= 1
    )
    assert conversation not in body  # templates, never ids
    assert _value(body, 'surfsense_checkpoint_operation_seconds_count{operation="saving a checkpoint"}') >= 1
    assert _value(body, 'surfsense_db_pool_connections{pool="saver",state="open"}') >= 1
    assert _value(body, 'surfsense_db_pool_connections{pool="sqlalchemy",state="idle"}') >= 0


async def test_off_without_a_token(app: FastAPI, alice: Caller) -> None:
    get_settings.cache_clear()
    async with asgi_client(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"] == "MetricsOff"
    # A user's own token is no metrics token.
    assert (await alice.client.get("/metrics")).status_code == 404


async def test_a_wrong_token_is_401(app: FastAPI, metrics_token: dict[str, str]) -> None:
    async with asgi_client(app) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = await client.get("/metrics", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"] == "Bearer"
            assert "surfsense_" not in response.text
