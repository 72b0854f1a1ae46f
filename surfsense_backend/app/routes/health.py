"""Liveness and readiness for load balancers and orchestrators."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.persistence import MessageCheckpointer, is_transient
from app.services.persistence.schema_status import current_revisions

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up and serving; says nothing of the database."""
    return {"status": "live"}


async def _database_status(engine: AsyncEngine) -> dict[str, Any]:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            revisions = sorted(await current_revisions(conn))
    except Exception as exc:
        if not is_transient(exc):
            raise
        return {"database": f"unreachable: {type(exc).__name__}"}
    return {"database": "ok", "migration": ", ".join(revisions) or None}


@router.get("/ready", responses={503: {"description": "Not ready: the database is unreachable."}})
async def ready(request: Request) -> JSONResponse:
    """Ready when the database answers; `degraded` when running on the in-memory saver."""
    report = await _database_status(request.app.state.engine)
    checkpointer: MessageCheckpointer | None = request.app.state.checkpointer
    if checkpointer is not None:
        report["checkpointer"] = await checkpointer.health()
    ok = report["database"] == "ok"
    if checkpointer is not None and checkpointer.backend == "memory":
        report["status"] = "degraded"
    else:
        report["status"] = "ready" if ok else "unavailable"
    return JSONResponse(report, status_code=200 if report["status"] != "unavailable" else 503)
