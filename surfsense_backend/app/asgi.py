"""What the app's plain ASGI middlewares share: they act when a response starts.

Plain ASGI, not BaseHTTPMiddleware, so streams pass through untouched.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMiddleware(ABC):
    """A middleware that acts on HTTP requests; lifespan and websockets pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None: ...


def on_response_start(send: Send, hook: Callable[[Message], None]) -> Send:
    """`send`, calling `hook` with the response's start message before it goes."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            hook(message)
        await send(message)

    return sending
