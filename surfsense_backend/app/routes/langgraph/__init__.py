"""The LangGraph Agent Server API, under /langgraph: what langgraph-sdk,
@langchain/langgraph-sdk and the UIs built on them call. A thread is a
conversation of the chat API; the same tokens, tables and tenancy."""

from fastapi import APIRouter, FastAPI

from app.config import get_cors_settings
from app.routes.langgraph import assistants, crons, info, runs, stateless, store, threads
from app.routes.langgraph.cors import AgentServerCors
from app.routes.langgraph.requests import AgentServerRequests

PREFIX = "/langgraph"

router = APIRouter(prefix=PREFIX)
router.include_router(info.router)
router.include_router(assistants.router)
router.include_router(threads.router)
router.include_router(runs.router)
router.include_router(stateless.router)
router.include_router(crons.router)
router.include_router(store.router)


def install_langgraph_api(app: FastAPI) -> None:
    app.include_router(router)
    app.add_middleware(AgentServerRequests, prefix=PREFIX)
    # Outside the request rewrite: a preflight is answered before anything reads it.
    app.add_middleware(AgentServerCors, prefix=PREFIX, origins=get_cors_settings().allow_origins)
