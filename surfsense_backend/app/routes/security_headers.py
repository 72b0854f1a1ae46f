"""Headers every response carries, and the chat page's Content-Security-Policy.

The page loads only its own files and talks only to this origin, so its
policy allows nothing else: no inline script or style, no framing (against
clickjacking), no referrer leaving with a conversation's address. /docs is
left out of the policy: Swagger UI loads its scripts from a CDN.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from app.asgi import HttpMiddleware, on_response_start

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _is_page(path: str) -> bool:
    return path == "/" or path.startswith("/static/")


class SecurityHeaders(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        page = _is_page(scope["path"])

        def add_headers(message: Message) -> None:
            headers = MutableHeaders(scope=message)
            for name, value in _EVERY_RESPONSE.items():
                headers.setdefault(name, value)
            if page:
                headers["Content-Security-Policy"] = PAGE_POLICY

        await self.app(scope, receive, on_response_start(send, add_headers))
