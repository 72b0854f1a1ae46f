"""What a browser and agent-chat-ui's proxy send to the Agent Server API:
CORS preflights from a UI on another origin, and JSON bodies whose content
type says otherwise. The chat API stays same-origin."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.config import CorsSettings
from app.routes.langgraph.cors import AgentServerCors
from tests.server import Server

UI = "http://127.0.0.1:3000"
# What @langchain/langgraph-sdk asks leave to send from a page.
SDK_HEADERS = "authorization,content-type,last-event-id,x-api-key"


def _preflight(method: str) -> dict[str, str]:
    return {
        "Origin": UI,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": SDK_HEADERS,
    }


@pytest.fixture
async def bare(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        yield client


class TestCrossOriginRequests:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("POST", "/langgraph/threads"),
            ("POST", "/langgraph/threads/search"),
            ("GET", "/langgraph/info"),
            ("POST", f"/langgraph/threads/{'0' * 8}-0000-0000-0000-{'0' * 12}/runs/stream"),
            ("DELETE", f"/langgraph/threads/{'0' * 8}-0000-0000-0000-{'0' * 12}"),
        ],
    )
    async def test_a_preflight_is_allowed_with_the_sdks_headers(
        self, bare: httpx.AsyncClient, method: str, path: str
    ) -> None:
        answer = await bare.options(path, headers=_preflight(method))
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] in (UI, "*")
        assert method in answer.headers["access-control-allow-methods"]
        allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
        assert set(SDK_HEADERS.split(",")) <= allowed

    async def test_a_response_exposes_where_a_run_lives(self, bare: httpx.AsyncClient, user: str) -> None:
        headers = {"Origin": UI, "X-Api-Key": user}
        made = await bare.post("/langgraph/threads", json={}, headers=headers)
        assert made.headers["access-control-allow-origin"] in (UI, "*")
        exposed = {h.strip().lower() for h in made.headers["access-control-expose-headers"].split(",")}
        assert {"content-location", "location"} <= exposed
        # An error a UI shows carries the headers too, so the page can read it.
        missing = await bare.get("/langgraph/threads/not-a-thread", headers=headers)
        assert missing.status_code == 404
        assert missing.headers["access-control-allow-origin"] in (UI, "*")

    async def test_the_chat_api_answers_no_preflight(self, bare: httpx.AsyncClient, user: str) -> None:
        answer = await bare.options("/api/v1/conversations", headers=_preflight("POST"))
        assert "access-control-allow-origin" not in answer.headers
        listed = await bare.get(
            "/api/v1/conversations", headers={"Origin": UI, "Authorization": f"Bearer {user}"}
        )
        assert listed.status_code == 200
        assert "access-control-allow-origin" not in listed.headers


class TestAllowedOrigins:
    """CORS_ALLOW_ORIGINS narrows who may call, as on the Agent Server."""

    def test_origins_are_read_comma_separated(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CORS_ALLOW_ORIGINS", f"{UI}, https://chat.example.com")
        assert CorsSettings().allow_origins == [UI, "https://chat.example.com"]
        monkeypatch.delenv("CORS_ALLOW_ORIGINS")
        assert CorsSettings().allow_origins == ["*"]

    async def test_another_origin_is_refused(self) -> None:
        inner = Starlette(routes=[Route("/langgraph/info", lambda _: PlainTextResponse("ok"))])
        app = AgentServerCors(inner, "/langgraph", [UI])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app") as client:
            assert (await client.options("/langgraph/info", headers=_preflight("GET"))).status_code == 200
            elsewhere = {**_preflight("GET"), "Origin": "https://evil.example.com"}
            refused = await client.options("/langgraph/info", headers=elsewhere)
            assert refused.status_code == 400
            assert "access-control-allow-origin" not in refused.headers


class TestJsonWhateverItsContentType:
    """agent-chat-ui's proxy forwards JSON as it got it; the Agent Server parses it anyway."""

    @pytest.mark.parametrize("content_type", ["text/plain;charset=UTF-8", "application/octet-stream", None])
    async def test_a_json_body_is_read_as_json(
        self, bare: httpx.AsyncClient, user: str, content_type: str | None
    ) -> None:
        headers = {"X-Api-Key": user}
        if content_type is not None:
            headers["Content-Type"] = content_type
        made = await bare.post(
            "/langgraph/threads", content=b'{"metadata": {"via": "proxy"}}', headers=headers
        )
        assert made.status_code == 200, made.text
        assert made.json()["metadata"]["via"] == "proxy"
        found = await bare.post(
            "/langgraph/threads/search", content=b'{"metadata": {"via": "proxy"}}', headers=headers
        )
        assert made.json()["thread_id"] in {t["thread_id"] for t in found.json()}

    async def test_a_body_that_is_not_json_is_still_refused(self, bare: httpx.AsyncClient, user: str) -> None:
        headers = {"X-Api-Key": user, "Content-Type": "text/plain"}
        refused = await bare.post("/langgraph/threads", content=b"metadata=proxy", headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"] == "ValidationError"
