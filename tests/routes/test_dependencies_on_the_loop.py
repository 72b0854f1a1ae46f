"""Every route and dependency runs on the event loop, none in the threadpool.

FastAPI runs a plain `def` (endpoint or dependency) in a worker thread: a
thread hop, and the GIL handed back and forth, on every request for a
function that only builds an object. In W8 the one sync dependency of a chat
turn (the token strategy) cost about 3% of the server's CPU.
"""

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app


def _on_the_loop(call: Callable[..., Any]) -> bool:
    for candidate in (call, getattr(call, "__call__", None)):  # noqa: B004 - instances are dependencies too
        if inspect.iscoroutinefunction(candidate) or inspect.isasyncgenfunction(candidate):
            return True
    return False


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def test_no_route_or_dependency_runs_in_the_threadpool() -> None:
    app = create_app("postgresql+asyncpg://unused@127.0.0.1/unused")  # routes only: no lifespan runs
    routes = [context.original_route for context in iter_route_contexts(app.routes)]
    api_routes = [route for route in routes if isinstance(route, APIRoute)]
    assert len(api_routes) > 50  # the included routers' routes, not only the app's own
    in_threads = {
        f"{route.path}: {call.__qualname__}"
        for route in api_routes
        for call in _calls(route.dependant)
        if not _on_the_loop(call)
    }
    assert not in_threads
