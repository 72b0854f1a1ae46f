"""The LangGraph Agent Server API, under /langgraph: what langgraph-sdk,
@langchain/langgraph-sdk and the UIs built on them call. A thread is a
conversation of the chat API; the same tokens, tables and tenancy."""

from fastapi import APIRouter, FastAPI

from app.routes.langgraph import assistants, info, runs, stateless, threads
from app.routes.langgraph.api_key import ApiKeyAsBearer

PREFIX = "/langgraph"

router = APIRouter(prefix=PREFIX)
router.include_router(info.router)
router.include_router(assistants.router)
router.include_router(threads.router)
router.include_router(runs.router)
router.include_router(stateless.router)


def install_langgraph_api(app: FastAPI) -> None:
    app.include_router(router)
    app.add_middleware(ApiKeyAsBearer, prefix=PREFIX)
