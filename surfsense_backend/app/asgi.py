"""What the app's plain ASGI middlewares share: they act when a response starts.

Plain ASGI, not BaseHTTPMiddleware, so streams pass through untouched.
"""

from collections.abc import Callable

from starlette.types import Message, Send


def on_response_start(send: Send, hook: Callable[[Message], None]) -> Send:
    """`send`, calling `hook` with the response's start message before it goes."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            hook(message)
        await send(message)

    return sending
