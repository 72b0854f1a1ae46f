"""Headers every answer carries, and the chat page's Content-Security-Policy."""

from fastapi import FastAPI

from tests.http_client import Caller, asgi_client


class TestSecurityHeaders:
    async def test_the_chat_page_has_a_strict_policy(self, app: FastAPI) -> None:
        async with asgi_client(app) as client:
            for path in ("/", "/static/app.js", "/static/style.css"):
                response = await client.get(path)
                assert response.status_code == 200, path
                policy = response.headers["content-security-policy"]
                assert "frame-ancestors 'none'" in policy
                assert "script-src 'self'" in policy
                assert "'unsafe-inline'" not in policy
                assert response.headers["x-content-type-options"] == "nosniff"
                assert response.headers["referrer-policy"] == "no-referrer"

    async def test_api_answers_are_not_sniffed_or_framed(self, alice: Caller) -> None:
        response = await alice.client.get("/api/v1/conversations")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
