"""The LangGraph SDKs send their `api_key` as an `X-Api-Key` header (and UIs
such as agent-chat-ui pass their key that way): on the Agent Server API it
is taken as the bearer token, when the request carries no Authorization."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import HttpMiddleware


class ApiKeyAsBearer(HttpMiddleware):
    def __init__(self, app: ASGIApp, prefix: str) -> None:
        super().__init__(app)
        self.prefix = prefix

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(self.prefix):
            headers = MutableHeaders(scope=scope)
            key = headers.get("x-api-key")
            if key and "authorization" not in headers:
                headers["authorization"] = f"Bearer {key}"
        await self.app(scope, receive, send)
