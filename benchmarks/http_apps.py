"""The app on the stock saver, for W8: `uvicorn benchmarks.http_apps:stock --factory`.

The same app, routes, run engine and graphs, compiled on the stock
AsyncPostgresSaver (psycopg_pool's defaults, as its docs set it up) instead
of this layer's saver: what the app would be without it. W8's other
configurations need no factory: `app.main:create_app` as shipped, and with
PERSISTENCE_ENABLE_CHECKPOINTING=false on LangGraph's in-memory saver.
"""

from contextlib import AsyncExitStack
from typing import Any

from fastapi import FastAPI
from langgraph.checkpoint.base import BaseCheckpointSaver

import app.main
from benchmarks.configs import stock_saver


def stock() -> FastAPI:
    """The app with its saver swapped, in this process only (the seams are the
    lifespan's own two calls: open the saver, close it)."""
    stack = AsyncExitStack()
    seams = vars(app.main)
    close_ours = seams["close_checkpointer"]

    async def open_stock(application: FastAPI, database_url: str, _config: Any) -> BaseCheckpointSaver[Any]:
        application.state.checkpointer = None  # stock has no retention sweep to run
        return await stack.enter_async_context(stock_saver(database_url))

    async def close_stock() -> None:
        await stack.aclose()
        await close_ours()

    seams["_agent_saver"], seams["close_checkpointer"] = open_stock, close_stock
    return app.main.create_app()
