"""Is the server up, and what it is: the first calls a LangGraph client makes."""

from importlib.metadata import version

from fastapi import APIRouter

from app.schemas.langgraph import InfoOut

router = APIRouter(tags=["langgraph"])


@router.get("/ok")
async def ok() -> dict[str, bool]:
    return {"ok": True}


@router.get("/info")
async def info() -> InfoOut:
    return InfoOut(
        version=version("surfsense-backend"),
        langgraph_py_version=version("langgraph"),
        # What this server implements of the Agent Server's optional parts.
        flags={"assistants": True, "crons": False, "store": False, "langsmith": False},
        metadata={},
    )
