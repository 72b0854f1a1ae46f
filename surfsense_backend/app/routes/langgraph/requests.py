"""Requests to the Agent Server API, read as the Agent Server reads them.

- The LangGraph SDKs send their `api_key` as an `X-Api-Key` header (and UIs
  such as agent-chat-ui pass their key that way): it is taken as the bearer
  token, when the request carries no Authorization.
- A body is JSON whatever its content type says, or when it says none:
  agent-chat-ui's server-side proxy forwards bodies without
  `application/json`, and the Agent Server parses them all the same. No
  route here takes anything but JSON.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import HttpMiddleware

JSON = "application/json"


class AgentServerRequests(HttpMiddleware):
    def __init__(self, app: ASGIApp, prefix: str) -> None:
        super().__init__(app)
        self.prefix = prefix

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(self.prefix):
            headers = MutableHeaders(scope=scope)
            key = headers.get("x-api-key")
            if key and "authorization" not in headers:
                headers["authorization"] = f"Bearer {key}"
            if not _is_json(headers.get("content-type")):
                headers["content-type"] = JSON
        await self.app(scope, receive, send)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == JSON or media.endswith("+json")
