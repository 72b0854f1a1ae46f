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
