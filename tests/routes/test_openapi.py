"""The OpenAPI schema at /docs shows the error shape."""

from fastapi import FastAPI

from tests.http_client import asgi_client


async def test_routes_document_the_error_shape(app: FastAPI) -> None:
    async with asgi_client(app) as client:
        schema = (await client.get("/openapi.json")).json()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"error", "detail"}
    send = schema["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]["responses"]
    for status in ("401", "404", "409", "413", "422", "502", "503"):
        assert send[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
    assert "text/event-stream" in send["200"]["content"]
    get = schema["paths"]["/api/v1/conversations/{conversation_id}"]["get"]["responses"]
    assert get["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


async def test_the_stream_formats_are_documented(app: FastAPI) -> None:
    async with asgi_client(app) as client:
        schema = (await client.get("/openapi.json")).json()
    send = schema["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    [stream] = [p for p in send["parameters"] if p["name"] == "stream"]
    assert stream["in"] == "query"
    assert stream["schema"]["anyOf"] == [{"type": "string", "enum": ["events", "ui"]}, {"type": "null"}]

    assert "AI SDK UI message stream" in stream["description"]
    # The page is for people, not part of the API.
    assert "/" not in schema["paths"]


async def test_the_auth_routes_document_what_they_answer(app: FastAPI) -> None:
    async with asgi_client(app) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    error = {"$ref": "#/components/schemas/ErrorOut"}
    expected = {
        ("/auth/register", "post"): ({"201", "409", "422"}, {"400"}),
        ("/auth/jwt/login", "post"): ({"200", "400", "422", "429"}, set()),
        ("/auth/jwt/logout", "post"): ({"204", "401"}, {"200"}),
    }
    for (path, method), (documented, absent) in expected.items():
        responses = paths[path][method]["responses"]
        assert documented <= set(responses), (path, set(responses))
        assert not absent & set(responses), (path, set(responses))
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == error, (path, status)
