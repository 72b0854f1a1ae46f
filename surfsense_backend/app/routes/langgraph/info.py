"""Is the server up, and what it is: the first calls a LangGraph client makes."""

from importlib.metadata import version

from fastapi import APIRouter, Request

from app.schemas.langgraph import InfoOut
from app.services.store import AppStore

router = APIRouter(tags=["langgraph"])


@router.get("/ok")
async def ok() -> dict[str, bool]:
    return {"ok": True}


@router.get("/info")
async def info(request: Request) -> InfoOut:
    store: AppStore | None = request.app.state.store
    return InfoOut(
        version=version("surfsense-backend"),
        langgraph_py_version=version("langgraph"),
        # What this server implements of the Agent Server's optional parts;
        # `store_search_by_meaning` is false where the database has no pgvector.
        flags={
            "assistants": True,
            "crons": True,
            "store": store is not None,
            "store_search_by_meaning": store is not None and store.embeddings is not None,
            "langsmith": False,
        },
        metadata={},
    )
