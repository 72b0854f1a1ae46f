"""Prometheus metrics at /metrics: request latency, pool usage, and the
persistence layer's own counters (`services/persistence/metrics.py`)."""

import secrets
import time
from collections.abc import Iterator

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import Message, Receive, Scope, Send

from app.asgi import HttpMiddleware, on_response_start
from app.config import get_settings
from app.errors import AppError, NotFound

HTTP_SECONDS = Histogram(
    "surfsense_http_request_seconds",
    "Time to the response's first byte, by route template and status.",
    ["method", "route", "status"],
)


class RequestMetrics(HttpMiddleware):
    """Times every HTTP request; a plain ASGI middleware, so streams pass untouched."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()

        def note(message: Message) -> None:
            # Route templates, not paths: ids would make a series per conversation.
            route = getattr(scope.get("route"), "path", "unmatched")
            status = str(message["status"])
            HTTP_SECONDS.labels(scope["method"], route, status).observe(time.perf_counter() - start)

        await self.app(scope, receive, on_response_start(send, note))


class PoolCollector(Collector):
    """Both pools' connections by state, read when Prometheus scrapes."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "surfsense_db_pool_connections", "Connections of each pool, by state.", labels=["pool", "state"]
        )
        checkpointer = getattr(self.app.state, "checkpointer", None)
        if checkpointer is not None and checkpointer.pool is not None:
            stats = checkpointer.pool.get_stats()
            gauge.add_metric(["saver", "open"], stats.get("pool_size", 0))
            gauge.add_metric(["saver", "idle"], stats.get("pool_available", 0))
            gauge.add_metric(["saver", "waiting"], stats.get("requests_waiting", 0))
        engine = getattr(self.app.state, "engine", None)
        if engine is not None:
            pool = engine.pool
            gauge.add_metric(["sqlalchemy", "in_use"], pool.checkedout())
            gauge.add_metric(["sqlalchemy", "idle"], pool.checkedin())
        yield gauge


router = APIRouter(tags=["health"])


class MetricsOff(NotFound):
    def __init__(self) -> None:
        super().__init__("Metrics are not served here; set METRICS_TOKEN to serve them to its bearer.")


class MetricsRefused(AppError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("/metrics needs Authorization: Bearer <METRICS_TOKEN>.")
        self.headers = {"WWW-Authenticate": "Bearer"}


async def _require_metrics_token(request: Request) -> None:
    """Off unless METRICS_TOKEN is set: the numbers say how the service is used."""
    token = get_settings().metrics_token
    if token is None:
        raise MetricsOff
    given = request.headers.get("authorization", "").encode()
    if not secrets.compare_digest(given, f"Bearer {token.get_secret_value()}".encode()):
        raise MetricsRefused


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(_require_metrics_token)])
async def metrics(request: Request) -> Response:
    body = generate_latest(REGISTRY) + generate_latest(request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    # The pool gauges belong to this app: a registry of its own, so several
    # apps in one process (tests) never clash in the global one.
    app.state.metrics_registry = CollectorRegistry(auto_describe=False)
    app.state.metrics_registry.register(PoolCollector(app))
    app.add_middleware(RequestMetrics)
    app.include_router(router)
