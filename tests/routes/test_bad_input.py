"""Text PostgreSQL cannot hold and integers beyond bigint answer 422, on every
route where they enter; never a 500."""

import json

import pytest

from app.db.text import BIGINT_MAX, INTEGER_MAX
from tests.http_client import Caller

NUL, SURROGATE = "\\u0000", "\\ud800"


async def _post_json(caller: Caller, method: str, url: str, raw: str) -> int:
    """Send `raw` as the body as it is: JSON escapes reach the server unparsed."""
    response = await caller.client.request(
        method, url, content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code != 500, response.text
    assert set(response.json()) == {"error", "detail"}
    return response.status_code


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
class TestBodies:
    async def test_titles(self, alice: Caller, bad: str) -> None:
        raw = json.dumps({"title": "x"}).replace("x", f"a{bad}b")
        assert await _post_json(alice, "POST", "/api/v1/conversations", raw) == 422
        conversation = await alice.conversation("fine")
        assert await _post_json(alice, "PATCH", f"/api/v1/conversations/{conversation}", raw) == 422

    async def test_message_content(self, alice: Caller, bad: str) -> None:
        conversation = await alice.conversation()
        raw = f'{{"content": "hello {bad}"}}'
        assert await _post_json(alice, "POST", f"/api/v1/conversations/{conversation}/messages", raw) == 422
        history = await alice.client.get(f"/api/v1/conversations/{conversation}/messages")
        assert history.json()["items"] == []

    async def test_feedback_comment(self, alice: Caller, bad: str) -> None:
        conversation = await alice.conversation()
        run_id = (await alice.send(conversation, "hi")).json()["run_id"]
        raw = f'{{"sentiment": "positive", "comment": "nice {bad}"}}'
        assert await _post_json(alice, "PUT", f"/api/v1/runs/{run_id}/feedback", raw) == 422

    async def test_fork_checkpoint_id(self, alice: Caller, bad: str) -> None:
        conversation = await alice.conversation()
        raw = f'{{"checkpoint_id": "1f0{bad}"}}'
        assert await _post_json(alice, "POST", f"/api/v1/conversations/{conversation}/fork", raw) == 422


class TestPathsAndQueries:
    async def test_nul_in_a_checkpoint_path_and_cursor(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        base = f"/api/v1/conversations/{conversation}"
        for url in (
            f"{base}/checkpoints/1f0%00",
            f"{base}/checkpoints?before=1f0%00",
            "/api/v1/conversations?cursor=a%00",
        ):
            response = await alice.client.get(url)
            assert response.status_code == 422, (url, response.text)

    async def test_before_beyond_bigint(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        url = f"/api/v1/conversations/{conversation}/messages"
        assert (await alice.client.get(url, params={"before": BIGINT_MAX})).status_code == 200
        response = await alice.client.get(url, params={"before": BIGINT_MAX + 1})
        assert response.status_code == 422
        assert response.json()["error"] == "ValidationError"

    async def test_last_event_id_beyond_an_events_number(self, alice: Caller) -> None:
        """Events are numbered in an integer column: a larger Last-Event-ID is
        no event's, refused before the stream starts (it failed inside it)."""
        conversation = await alice.conversation()
        run_id = (await alice.send(conversation, "hi")).json()["run_id"]
        url = f"/api/v1/conversations/{conversation}/runs/{run_id}/stream"
        assert (await alice.client.get(url, headers={"Last-Event-ID": str(INTEGER_MAX)})).status_code == 200
        for beyond in (INTEGER_MAX + 1, -2):
            response = await alice.client.get(url, headers={"Last-Event-ID": str(beyond)})
            assert response.status_code == 422
            assert response.json()["error"] == "ValidationError"


class TestUnparseableBodies:
    async def test_bytes_that_are_not_utf8_are_422(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        for method, url in (
            ("POST", "/api/v1/conversations"),
            ("PATCH", f"/api/v1/conversations/{conversation}"),
            ("POST", f"/api/v1/conversations/{conversation}/messages"),
            ("POST", "/auth/register"),
        ):
            response = await alice.client.request(
                method, url, content=b"\\\xd5\x1a\xe9\xff", headers={"content-type": "application/json"}
            )
            assert response.status_code == 422, (url, response.text)
            assert response.json()["error"] == "ValidationError"
