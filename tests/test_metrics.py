"""Prometheus metrics at /metrics."""

from fastapi import FastAPI

from tests.http_client import Caller, asgi_client


def _value(body: str, prefix: str) -> float:
    lines = [line for line in body.splitlines() if line.startswith(prefix)]
    assert lines, f"no sample {prefix}"
    return float(lines[0].rsplit(" ", 1)[1])


async def test_requests_checkpoints_and_pools_are_measured(app: FastAPI, alice: Caller) -> None:
    conversation = await alice.conversation()
    assert (await alice.send(conversation, "measure me")).status_code == 200
    async with asgi_client(app) as client:
        response = await client.get("/metrics")
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
