"""The FastAPI application and its lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from app.agents import compile_assistants
from app.agents.graphs_file import read_graphs_file
from app.config import PersistenceConfig, get_persistence_config, get_settings, get_store_settings
from app.db import create_engine, create_sessionmaker, create_statement_sessionmaker, resolve_database_url
from app.observability.metrics import install_metrics
from app.routes import auth, conversations, errors, health, memories, search
from app.routes.body_limit import BodyLimit
from app.routes.langgraph import install_langgraph_api
from app.routes.web import install_web
from app.services.agent_services import AGENT_SERVICES
from app.services.auth.secret_key import resolve_secret_key
from app.services.auth.throttle import LoginThrottle
from app.services.conversations.assistant_of import assistant_of_threads
from app.services.crons.scheduler import CronScheduler
from app.services.integrity import install_race_errors
from app.services.persistence import (
    MessageCheckpointer,
    RetryPolicy,
    close_checkpointer,
    setup_checkpointer_tables,
)
from app.services.persistence.schema_status import verify_schema
from app.services.retention import RetentionSweeper
from app.services.runs.runner import ChatRunner
from app.services.store import AppStore
from app.services.store.index_config import with_index

logger = logging.getLogger(__name__)


async def _agent_saver(
    app: FastAPI, database_url: str, config: PersistenceConfig
) -> BaseCheckpointSaver[Any]:
    """The shared durable saver; with checkpointing off, a per-process one."""
    if config.enable_checkpointing:
        checkpointer = await setup_checkpointer_tables(database_url, config)
        app.state.checkpointer = checkpointer
        return await checkpointer.get_saver()
    async with app.state.engine.connect() as conn:
        await verify_schema(conn)
    logger.warning("PERSISTENCE_ENABLE_CHECKPOINTING=false: agent state lives in memory only")
    return InMemorySaver()


async def _user_stores(checkpointer: MessageCheckpointer | None, graphs_file: Path) -> AppStore | None:
    """Long-term memory on the saver's pool, embedding as the graphs file's
    `store.index` says, else as STORE_EMBEDDINGS; none when agent state is in memory only."""
    if checkpointer is None or checkpointer.pool is None:
        logger.warning("no durable checkpointer: graphs run without a store, /langgraph/store answers 503")
        return None
    settings = with_index(get_store_settings(), read_graphs_file(graphs_file).store, graphs_file)
    store = AppStore(checkpointer.pool, settings)
    await store.open()
    return store


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start: engine, schema at head, shared checkpointer, agent. Stop: the reverse."""
    settings, config = get_settings(), get_persistence_config()
    database_url = app.state.database_url or resolve_database_url(settings)
    app.state.secret_key = resolve_secret_key(settings)
    app.state.engine = create_engine(database_url, settings)
    install_race_errors(app.state.engine)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    app.state.statement_sessions = create_statement_sessionmaker(
        app.state.engine, direct=settings.db_prepared_statements
    )
    app.state.login_throttle = LoginThrottle(
        app.state.sessionmaker, settings.login_max_failures, settings.login_failure_window
    )
    app.state.checkpointer = None
    app.state.store = None
    app.state.chat_runner = None
    app.state.sweeper = None
    app.state.crons = None
    try:
        saver = await _agent_saver(app, database_url, config)
        checkpointer = app.state.checkpointer
        app.state.store = await _user_stores(checkpointer, app.state.graphs_file or settings.langgraph_json)
        agents = await compile_assistants(
            saver,
            app.state.chat_model,
            assistant_of_threads(checkpointer) if checkpointer is not None else None,
            services=AGENT_SERVICES,
            graphs_file=app.state.graphs_file,
            stores=app.state.store.for_user if app.state.store is not None else None,
        )
        app.state.chat_runner = ChatRunner(
            app.state.sessionmaker,
            app.state.statement_sessions,
            agents,
            RetryPolicy.from_config(config),
            lease=settings.chat_run_lease,
            poll_interval=settings.chat_poll_interval,
            progress_interval=settings.chat_progress_interval,
        )
        app.state.chat_runner.start_keeping_leases()
        app.state.crons = CronScheduler(
            app.state.sessionmaker, app.state.chat_runner, settings.cron_poll_interval
        )
        app.state.crons.start()
        app.state.stream_heartbeat = settings.stream_heartbeat
        if checkpointer is not None:
            # Retention snapshots DeltaChannels from the state of the graph that wrote them.
            checkpointer.rebase = agents.values_at
            app.state.sweeper = RetentionSweeper(checkpointer, app.state.sessionmaker)
            app.state.sweeper.start()
        yield
    finally:
        if app.state.sweeper is not None:
            await app.state.sweeper.stop()
        # Before the runner stops taking runs: a poll cut short fires nothing.
        if app.state.crons is not None:
            await app.state.crons.stop()
        if app.state.chat_runner is not None:
            await app.state.chat_runner.shutdown(config.checkpointer_cleanup_timeout)
        if app.state.store is not None:
            await app.state.store.close()
        await close_checkpointer()
        await app.state.engine.dispose()


def create_app(
    database_url: str | None = None, chat_model: BaseChatModel | None = None, graphs_file: Path | None = None
) -> FastAPI:
    """The app; `database_url` overrides DATABASE_URL (the CLI passes the embedded
    one), `chat_model` overrides LLM_PROVIDER (tests pass a failing one),
    `graphs_file` overrides LANGGRAPH_JSON."""
    app = FastAPI(title="SurfSense backend", lifespan=lifespan)
    app.state.database_url = database_url
    app.state.chat_model = chat_model
    app.state.graphs_file = graphs_file
    errors.install_error_handlers(app)
    app.add_middleware(BodyLimit)
    install_metrics(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(conversations.router)
    app.include_router(memories.router)
    app.include_router(search.router)
    install_langgraph_api(app)
    install_web(app)
    return app
