"""CORS on the Agent Server API alone: browsers call it from UIs served on
other origins (agent-chat-ui, assistant-ui), and preflight every request that
carries a key or a JSON body. The rest of the app answers no preflight, so
the chat API and its page stay same-origin."""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi import HttpMiddleware

# What the SDKs read from a response: where a new run lives and how to rejoin its stream.
EXPOSED = ["content-location", "location"]


class AgentServerCors(HttpMiddleware):
    def __init__(self, app: ASGIApp, prefix: str, origins: list[str]) -> None:
        super().__init__(app)
        self.prefix = prefix
        # Any request header, as the Agent Server allows (the SDKs send
        # authorization, x-api-key, content-type and last-event-id; a UI may add its own).
        self.cors = CORSMiddleware(
            app, allow_origins=origins, allow_methods=["*"], allow_headers=["*"], expose_headers=EXPOSED
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
