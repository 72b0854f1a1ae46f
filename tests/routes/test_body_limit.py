"""Request bodies are bounded before they are read: a declared length over
MAX_REQUEST_BYTES is refused unread, a chunked body once it passes it; a
chunked body under it reaches the route whole."""

from collections.abc import AsyncIterator

from app.config import get_settings
from tests.http_client import Caller


class TestBodyLimit:
    async def test_a_body_over_the_request_limit_is_413_unread(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        limit = get_settings().max_request_bytes
        url = f"/api/v1/conversations/{conversation}/messages"
        body = b'{"content": "' + b"x" * limit + b'"}'
        declared = await alice.client.post(url, content=body, headers={"content-type": "application/json"})
        assert declared.status_code == 413
        assert declared.json() == {
            "error": "RequestTooLarge",
            "detail": f"The request body is larger than {limit} bytes.",
        }

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1 << 20):
                yield body[start : start + (1 << 20)]

        chunked = await alice.client.post(url, content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert chunked.json()["error"] == "RequestTooLarge"
        assert (await alice.client.get(url)).json()["items"] == []

    async def test_a_chunked_body_under_the_limit_is_read_whole(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        body = b'{"content": "sent in chunks"}'

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 5):
                yield body[start : start + 5]

        response = await alice.client.post(
            f"/api/v1/conversations/{conversation}/messages",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["user_message"]["content"] == "sent in chunks"
