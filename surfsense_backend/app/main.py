"""The FastAPI application and its lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.config import get_persistence_config, get_settings
from app.db import create_engine, create_sessionmaker, resolve_database_url
from app.routes import errors, health
from app.services.persistence import close_checkpointer, setup_checkpointer_tables
from app.services.persistence.schema_status import verify_schema

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start: database engine, shared checkpointer, schema at head. Stop: close both."""
    settings, config = get_settings(), get_persistence_config()
    database_url = app.state.database_url or resolve_database_url(settings)
    engine = create_engine(database_url, settings)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.checkpointer = None
    try:
        if config.enable_checkpointing:
            app.state.checkpointer = await setup_checkpointer_tables(database_url, config)
        else:
            async with engine.connect() as conn:
                await verify_schema(conn)
        yield
    finally:
        await close_checkpointer()
        await engine.dispose()


def create_app(database_url: str | None = None) -> FastAPI:
    """The app; `database_url` overrides DATABASE_URL (the CLI passes the embedded one)."""
    app = FastAPI(title="SurfSense backend", lifespan=lifespan)
    app.state.database_url = database_url
    errors.install_error_handlers(app)
    app.include_router(health.router)
    return app
