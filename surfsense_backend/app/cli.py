"""`surfsense-db`: the operator's command line for the persistence layer.

Exit codes: 0 done, 1 not found or refused, 2 usage, 3 database unreachable.
Every error is one line on stderr.
"""

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from langchain_core.embeddings import Embeddings

from app.agents import compile_assistants
from app.agents.graphs_file import GraphsFileError, read_graphs_file
from app.config import (
    StoreSettings,
    get_persistence_config,
    get_settings,
    get_store_settings,
    psycopg_conninfo,
)
from app.db import create_engine, create_sessionmaker, resolve_database_url, session_scope
from app.db.migrate import upgrade_to_head
from app.errors import AppError, first_line
from app.services import database_stats
from app.services.auth import erasure
from app.services.conversations.assistant_of import assistant_of_threads
from app.services.conversations.export import export_conversation
from app.services.persistence import (
    DatabaseRefused,
    DatabaseUnavailable,
    MessageCheckpointer,
    ThreadsNotPruned,
    is_database_outage,
)
from app.services.persistence.pool import build_pool
from app.services.persistence.retention import ThreadPruner
from app.services.persistence.sweeps import Sweep, beyond_newest, candidate_threads, older_than
from app.services.search import reindex
from app.services.store import AppStore
from app.services.store import reindex as re_embed
from app.services.store.embeddings import load_embeddings, model_dims, sized
from app.services.store.errors import VectorsMismatch
from app.services.store.index_config import StoreIndexError, with_index
from app.services.store.repository import Pool, has_vectors

T = TypeVar("T")

EXIT_REFUSED, EXIT_UNREACHABLE = 1, 3


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _runs_async(command: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async command, turning database faults into one line and an exit code."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            asyncio.run(command(*args, **kwargs))
        except (DatabaseUnavailable, DatabaseRefused) as exc:
            _fail(str(exc), EXIT_UNREACHABLE)
        except AppError as exc:
            _fail(str(exc), EXIT_REFUSED)
        except Exception as exc:
            # Raised by the SQLAlchemy side, which has no start-up probe.
            if not (is_database_outage(exc) or isinstance(exc, OSError)):
                raise
            _fail(f"the database is unreachable: {first_line(exc)}", EXIT_UNREACHABLE)

    return run


async def _with_session(work: Callable[[Any], Awaitable[T]]) -> T:
    settings = get_settings()
    engine = create_engine(resolve_database_url(settings), settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        _fail(f"{value!r} is not a {what} id (a UUID)", EXIT_REFUSED)
        raise


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


@click.group()
def main() -> None:
    """Operate the SurfSense persistence layer (DATABASE_URL, or the embedded server)."""


@main.command()
def migrate() -> None:
    """Run `alembic upgrade head`."""
    try:
        upgrade_to_head(resolve_database_url(get_settings()))
    except OSError as exc:
        _fail(f"the database is unreachable: {first_line(exc)}", EXIT_UNREACHABLE)
    click.echo("schema at head")


@main.command()
@click.option(
    "--largest", default=10, show_default=True, help="How many of the largest conversations to list."
)
@_runs_async
async def stats(largest: int) -> None:
    """Rows and bytes per table, and the largest conversations."""
    result = await _with_session(lambda s: database_stats.stats(s, largest))
    click.echo(f"{'table':<20} {'rows':>12} {'size':>12}")
    for table in database_stats.TABLES:
        click.echo(f"{table:<20} {result.rows[table]:>12,} {_size(result.bytes[table]):>12}")
    click.echo("\nlargest conversations (checkpoint rows):")
    for conversation_id, size in result.largest:
        click.echo(f"  {conversation_id}  {_size(size)}")


@main.command()
@click.option(
    "--keep", type=click.IntRange(min=1), help="Keep this many newest checkpoints per conversation."
)
@click.option(
    "--older-than", "days", type=click.FloatRange(min=0), help="Delete checkpoints older than DAYS."
)
@click.option("--apply/--dry-run", default=False, help="Delete, or (the default) only show what would go.")
@_runs_async
async def prune(keep: int | None, days: float | None, apply: bool) -> None:
    """Prune checkpoints (dry run unless --apply). Default: PERSISTENCE_MAX_CHECKPOINT_HISTORY."""
    if keep is not None and days is not None:
        _fail("give --keep or --older-than, not both", EXIT_REFUSED)
    checkpointer = MessageCheckpointer(resolve_database_url(get_settings()), get_persistence_config())
    await checkpointer.initialize()
    # As the app's sweeper does: snapshots of the oldest kept state, from the graph.
    saver = await checkpointer.get_saver()
    agents = await compile_assistants(saver, assistant_of=assistant_of_threads(checkpointer))
    checkpointer.rebase = agents.values_at
    try:
        sweep: Sweep = (
            older_than(datetime.now(UTC) - timedelta(days=days))
            if days is not None
            else beyond_newest(keep or checkpointer.config.max_checkpoint_history)
        )
        await _prune(checkpointer, sweep, apply)
    finally:
        await checkpointer.cleanup()


async def _prune(checkpointer: MessageCheckpointer, sweep: Sweep, apply: bool) -> None:
    pool = checkpointer.pool
    assert pool is not None  # noqa: S101 - initialize() opened it or raised
    threads = [t async for t in candidate_threads(pool, sweep, batch=500, limit=None)]
    pruner: ThreadPruner = checkpointer.pruner()
    total = 0
    not_pruned: dict[str, str] = {}
    with click.progressbar(threads, label="pruning" if apply else "planning", file=sys.stderr) as bar:
        for thread_id in bar:
            async with pool.connection() as conn:
                try:
                    if apply:
                        total += await pruner.prune(conn, thread_id, sweep.policy)
                    else:
                        planned = await pruner.plan(conn, thread_id, sweep.policy)
                        total += sum(len(ids) for ids in planned.values())
                except ThreadsNotPruned as exc:
                    not_pruned.update(exc.reasons)
    verb = "deleted" if apply else "would delete"
    click.echo(f"{verb} {total} checkpoint(s) in {len(threads) - len(not_pruned)} thread(s)")
    if not apply and total:
        click.echo("run again with --apply to delete them")
    if not_pruned:
        raise ThreadsNotPruned(not_pruned)


@main.command()
@click.argument("conversation_id")
@_runs_async
async def export(conversation_id: str) -> None:
    """Print a conversation's messages, runs and feedback, and its user's memories, as JSON."""
    found = await _with_session(lambda s: export_conversation(s, _uuid(conversation_id, "conversation")))
    click.echo(json.dumps(found, indent=2, ensure_ascii=False))


@main.command("delete-user")
@click.argument("user")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_runs_async
async def delete_user(user: str, yes: bool) -> None:
    """Erase a user, by id or email, and everything of theirs (for data-erasure requests)."""
    if "@" in user:
        target = await _with_session(lambda s: erasure.find_user(s, user))
    else:
        target = _uuid(user, "user (a UUID, or an email address)")
    if not yes:
        click.confirm(f"Delete user {target} ({user}) and all their conversations?", abort=True)
    conversations = await _with_session(lambda s: erasure.delete_user(s, target))
    click.echo(f"deleted user {target} and {conversations} conversation(s)")


@main.command("search-reindex")
@click.option("--language", help="A text search configuration (pg_ts_config). Default: SEARCH_LANGUAGE.")
@click.option(
    "--batch", default=5000, show_default=True, type=click.IntRange(min=1), help="Messages a transaction."
)
@_runs_async
async def search_reindex(language: str | None, batch: int) -> None:
    """Index every message and title again in another language, in batches, while the app runs."""
    chosen = language or get_settings().search_language
    settings = get_settings()
    engine = create_engine(resolve_database_url(settings), settings)
    sessions = create_sessionmaker(engine)
    try:
        async with session_scope(sessions) as session:
            await reindex.use_language(session, chosen)
            await reindex.reindex_titles(session)
            total = await reindex.searchable_messages(session)
        after = 0
        with click.progressbar(length=total, label=f"indexing in {chosen}", file=sys.stderr) as bar:
            while True:
                async with session_scope(sessions) as session:
                    ids = await reindex.reindex_messages(session, after, batch)
                if not ids:
                    break
                after = max(ids)
                bar.update(len(ids))
    finally:
        await engine.dispose()
    click.echo(f"search indexed in {chosen}: {total} message(s)")


def _store_settings() -> StoreSettings:
    """The model the app embeds with: langgraph.json's `store.index`, else STORE_EMBEDDINGS."""
    path = get_settings().langgraph_json
    try:
        return with_index(get_store_settings(), read_graphs_file(path).store, path)
    except (GraphsFileError, StoreIndexError) as exc:
        _fail(str(exc), EXIT_REFUSED)
        raise


@main.command("store-reindex")
@click.option(
    "--batch", default=500, show_default=True, type=click.IntRange(min=1), help="Items a transaction."
)
@_runs_async
async def store_reindex(batch: int) -> None:
    """Embed every store item again with the configured model, in batches, while the app runs."""
    chosen = _store_settings()
    if chosen.embeddings == "none":
        _fail("STORE_EMBEDDINGS=none: there is no model to embed with", EXIT_REFUSED)
    dims = model_dims(chosen)
    settings = get_settings()
    pool = build_pool(psycopg_conninfo(resolve_database_url(settings)), get_persistence_config())
    await pool.open()
    try:
        if not await has_vectors(pool):
            _fail("the database has no pgvector: the store keeps no vectors", EXIT_REFUSED)
        model = await asyncio.to_thread(load_embeddings, chosen)
        # A model making another size than configured is refused before anything changes.
        sized([await model.aembed_query("the size of this model's vectors")], dims)
        stored = await re_embed.resize(pool, dims)
        if stored != dims:
            click.echo(f"store_vectors: {stored} to {dims} dimensions; emptied, embedding again", err=True)
        total = await re_embed.embedded_items(pool)
        written = await _embed_again(pool, model, dims, batch, total)
        if stored != dims and not await re_embed.index_vectors(pool, dims):
            click.echo(f"no HNSW index: pgvector indexes at most {re_embed.HNSW_MAX_DIMS}", err=True)
    except VectorsMismatch as exc:
        _fail(str(exc), EXIT_REFUSED)
    finally:
        await pool.close()
    click.echo(f"store embedded with {chosen.embeddings} ({dims} dimensions): {written} item(s)")


async def _embed_again(pool: Pool, model: Embeddings, dims: int, batch: int, total: int) -> int:
    """Every item with vectors embedded again, a committed batch at a time; how many."""
    after, written = ("", ""), 0
    with click.progressbar(length=total, label="embedding", file=sys.stderr) as bar:
        while items := await re_embed.next_items(pool, after, batch):
            wanted = [(item, name, text) for item in items for name, text in item.texts()]
            vectors = sized(await model.aembed_documents([text for *_, text in wanted]), dims)
            rows = [
                (item.prefix, item.key, name, vector)
                for (item, name, _), vector in zip(wanted, vectors, strict=True)
            ]
            written += await re_embed.write_vectors(pool, items, rows)
            after = (items[-1].prefix, items[-1].key)
            bar.update(len(items))
    return written


def _jsonl_items(path: Path) -> list[tuple[str, object]]:
    """(key, value) of each line of `path`, a JSON object `{"key": ..., "value": {...}}`
    (blank lines skipped); the first line that is not is one error naming it."""
    items: list[tuple[str, object]] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                _fail(f"{path}:{number}: not JSON: {exc}", EXIT_REFUSED)
            if not isinstance(item, dict) or set(item) != {"key", "value"}:
                _fail(f'{path}:{number}: expected an object of "key" and "value"', EXIT_REFUSED)
            items.append((item["key"], item["value"]))
    if not items:
        _fail(f"{path} has no items", EXIT_REFUSED)
    return items


@main.command("store-load")
@click.argument("namespace")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Also delete the namespace's items that FILE does not hold.")
@_runs_async
async def store_load(namespace: str, file: Path, replace: bool) -> None:
    """Put FILE's items (JSON lines of "key" and "value") into the app's shared
    NAMESPACE (labels joined by dots; its first in STORE_SHARED_NAMESPACES),
    embedded, all or none; an item there with the same key is replaced."""
    items = _jsonl_items(file)
    settings = get_settings()
    pool = build_pool(psycopg_conninfo(resolve_database_url(settings)), get_persistence_config())
    await pool.open()
    store = AppStore(pool, _store_settings())
    try:
        await store.open()
        loaded = await store.load_shared(namespace.split("."), items, replace=replace)
    except VectorsMismatch as exc:
        _fail(str(exc), EXIT_REFUSED)
    finally:
        await store.close()
        await pool.close()
    click.echo(f"store loaded {loaded.put} item(s) into the app's namespace {namespace}")
    if replace:
        click.echo(f"deleted {loaded.deleted} item(s) the file does not hold")
