"""Request bodies are bounded before they are read.

Starlette reads a body whole into memory before FastAPI parses it, with no
limit of its own, and FastAPI turns any error raised while reading into a 400.
So the bound is here, outside both: a declared Content-Length over the limit
is refused unread; a chunked body is read up to the limit, then refused.
"""

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from app.asgi import HttpMiddleware
from app.config import get_settings
from app.errors import RequestTooLarge
from app.routes.errors import error_response


class BodyLimit(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = get_settings().max_request_bytes
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            if length.isdigit() and int(length) > limit:
                await self._refuse(limit, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read it here, then hand it on as received.
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(limit, scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        refused = RequestTooLarge(limit)
        response = error_response(refused.status_code, refused.kind, str(refused), {"Connection": "close"})
        await response(scope, receive, send)
