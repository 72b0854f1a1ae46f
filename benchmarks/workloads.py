"""W1 to W7: what is timed, and how. Each returns plain numbers for the report."""

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.agents.local_model import LocalChatModel
from app.agents.registry import AssistantRegistry
from app.main import create_app
from app.models import Conversation, User
from app.services.conversations.service import ConversationService
from app.services.persistence import ConversationStorage
from benchmarks.configs import Chat
from benchmarks.statement_counter import counter_for

# 200 characters, as the stock saver's measurements in DESIGN.md used.
TEXT = ("Durable chat memory keeps every turn of a conversation safe across restarts. " * 3)[:200]

_THREAD_BYTES_SQL = text(
    """
    SELECT (SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM checkpoints c WHERE c.thread_id = :t)
         + (SELECT coalesce(sum(pg_column_size(b.*)), 0) FROM checkpoint_blobs b WHERE b.thread_id = :t)
         + (SELECT coalesce(sum(pg_column_size(w.*)), 0) FROM checkpoint_writes w WHERE w.thread_id = :t)
         + (SELECT coalesce(sum(pg_column_size(m.*)), 0) FROM messages m WHERE m.conversation_id::text = :t)
    """
)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def percentile_ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def timed(operation: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await operation()
        samples.append(time.perf_counter() - start)
    return samples


async def new_conversation(engine: AsyncEngine, conversations: int = 1) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A user with `conversations` conversations, committed; their ids."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        user = User(email=f"bench-{uuid.uuid4().hex}@example.com", hashed_password="-")
        s.add(user)
        await s.flush()
        rows = [Conversation(user_id=user.id, title=f"c{i}") for i in range(conversations)]
        s.add_all(rows)
        await s.commit()
        return user.id, [row.id for row in rows]


def _pool_requests(chat: Chat) -> int:
    """Connections the saver has asked its pool for: one per database call."""
    pool = getattr(chat.saver, "conn", None)
    return pool.get_stats().get("requests_num", 0) if isinstance(pool, AsyncConnectionPool) else 0


async def w1_throughput(chat: Chat, conversations: int, turns: int) -> dict[str, float]:
    """`conversations` conversations at once, `turns` turns each; and what a
    turn costs this process in CPU (the machine's two cores are shared with
    the database) and in database calls."""
    latencies: list[float] = []

    async def converse() -> None:
        thread = await chat.new_thread()
        for _ in range(turns):
            start = time.perf_counter()
            await chat.turn(thread, TEXT)
            latencies.append(time.perf_counter() - start)

    requests, cpu, start = _pool_requests(chat), time.process_time(), time.perf_counter()
    await asyncio.gather(*(converse() for _ in range(conversations)))
    elapsed = time.perf_counter() - start
    return {
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": median_ms(latencies),
        "p99_ms": percentile_ms(latencies, 0.99),
        "cpu_ms_per_turn": (time.process_time() - cpu) * 1000 / len(latencies),
        "db_calls_per_turn": (_pool_requests(chat) - requests) / len(latencies),
    }


async def bare_call_cpu_us(pool: AsyncConnectionPool[Any], concurrency: int, calls: int) -> float:
    """CPU this process spends on one `SELECT 1` through the pool, `concurrency`
    tasks at once: the least a saver call can cost, whatever it carries."""

    async def caller() -> None:
        for _ in range(calls):
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")

    cpu = time.process_time()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return (time.process_time() - cpu) * 1e6 / (concurrency * calls)


class _LongConversation:
    """One configuration's side of W2: its thread, its turn latencies, its curve."""

    def __init__(self, chat: Chat, engine: AsyncEngine, conversation_id: uuid.UUID) -> None:
        self.chat, self.engine, self.conversation_id = chat, engine, conversation_id
        self.thread = str(conversation_id)
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.latencies: list[float] = []
        self.curve: list[tuple[int, float, int]] = []

    async def turn(self) -> None:
        """A turn; ours also stores both messages in the history table (the product's path)."""
        start = time.perf_counter()
        await self.chat.turn(self.thread, TEXT)
        if self.chat.name == "ours":
            async with self.sessions() as s:
                pair = [{"role": "user", "content": TEXT}, {"role": "assistant", "content": TEXT}]
                await ConversationStorage(s).save_messages(self.conversation_id, pair)
                await s.commit()
        self.latencies.append(time.perf_counter() - start)

    async def stored_bytes(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(_THREAD_BYTES_SQL, {"t": self.thread})).scalar_one())

    async def mark(self, turns_per_point: int) -> None:
        recent = median_ms(self.latencies[-turns_per_point:])
        self.curve.append((len(self.latencies), recent, await self.stored_bytes()))

    async def result(self) -> dict[str, Any]:
        text_bytes = 2 * len(TEXT.encode()) * len(self.latencies)
        stored, retained = self.curve[-1][2], None
        if self.chat.retain is not None:
            await self.chat.retain()
            retained = await self.stored_bytes()
        window = max(1, min(100, len(self.latencies) // 5))
        first, last = self.latencies[:window], self.latencies[-window:]
        return {
            "last_first_latency_ratio": statistics.median(last) / statistics.median(first),
            "first_turns_ms": median_ms(first),
            "last_turns_ms": median_ms(last),
            # None where nothing is stored (the in-memory saver) or nothing retained.
            "storage_per_text_byte": stored / text_bytes if stored else None,
            "retained_per_text_byte": retained / text_bytes if retained is not None else None,
            "stored_bytes": stored,
            "curve": self.curve,
        }


async def w2_long_conversation(chats: dict[str, Chat], engine: AsyncEngine, turns: int) -> dict[str, Any]:
    """One conversation of `turns` turns per configuration: does a turn slow down,
    does storage grow linearly? The configurations take turns one after another,
    so a busy minute on a shared machine slows each of them alike; ours's storage
    is measured again after the retention sweep the app runs."""
    _, conversation_ids = await new_conversation(engine, len(chats))
    runs = {
        name: _LongConversation(chat, engine, conversation_id)
        for (name, chat), conversation_id in zip(chats.items(), conversation_ids, strict=True)
    }
    per_point = max(1, turns // 10)
    for turn in range(turns):
        for run in runs.values():
            await run.turn()
            if (turn + 1) % per_point == 0:
                await run.mark(per_point)
    return {name: await run.result() for name, run in runs.items()}


async def _bulk_messages(engine: AsyncEngine, conversation_id: uuid.UUID, count: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO messages (conversation_id, role, content) "
                "SELECT :c, CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END, :t"
                " FROM generate_series(1, :n) i"
            ),
            {"c": conversation_id, "t": TEXT, "n": count},
        )
        await conn.execute(text("ANALYZE messages"))


async def _client(
    database_url: str, chat_model: BaseChatModel | None = None, *, background: bool = True
) -> tuple[Any, httpx.AsyncClient, uuid.UUID]:
    """The app in-process, and a logged-in client; the user's id. Without
    `background`, no lease renewals (one statement per poll interval while
    runs are in flight, whatever their number), no progress writes (one
    transaction per run per CHAT_PROGRESS_INTERVAL it lasts) and no retention
    sweep: what is counted is the turns' own, whatever the machine's speed."""
    app = create_app(database_url, chat_model=chat_model)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    if not background:
        app.state.chat_runner.executor.progress_interval = 86_400.0
        await app.state.chat_runner.keeper.stop()
        if app.state.sweeper is not None:
            await app.state.sweeper.stop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    email, password = f"bench-{uuid.uuid4().hex}@example.com", "benchmark password"
    await client.post("/auth/register", json={"email": email, "password": password})
    token = (await client.post("/auth/jwt/login", data={"username": email, "password": password})).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"
    user_id = uuid.UUID((await client.get("/users/me")).json()["id"])
    return lifespan, client, user_id


async def w3_history(engine: AsyncEngine, database_url: str, messages: int, repeat: int) -> dict[str, float]:
    """The newest page of 50 and a page deep in the past, of a `messages`-long history."""
    lifespan, client, user_id = await _client(database_url)
    try:
        conversation = (await client.post("/api/v1/conversations", json={})).json()["id"]
        conversation_id = uuid.UUID(conversation)
        await _bulk_messages(engine, conversation_id, messages)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as s:
            storage = ConversationStorage(s, owner_id=user_id)
            deep = (await storage.get_conversation_history(conversation_id, limit=1, before=None)).items[
                0
            ].id - (messages - 100)
            newest = await timed(lambda: storage.get_conversation_history(conversation_id, limit=50), repeat)
            past = await timed(
                lambda: storage.get_conversation_history(conversation_id, limit=50, before=deep), repeat
            )
        url = f"/api/v1/conversations/{conversation}/messages"
        http_newest = await timed(lambda: client.get(url, params={"limit": 50}), repeat)
        http_past = await timed(lambda: client.get(url, params={"limit": 50, "before": deep}), repeat)
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
    return {
        "storage_newest_ms": median_ms(newest),
        "storage_deep_ms": median_ms(past),
        "http_newest_ms": median_ms(http_newest),
        "http_deep_ms": median_ms(http_past),
    }


async def w5_bulk_messages(engine: AsyncEngine, count: int) -> dict[str, float]:
    """`count` messages saved through ConversationStorage in one transaction:
    with `save_messages` (one INSERT), and one `save_message` call each."""
    messages = [{"role": "user" if i % 2 else "assistant", "content": TEXT} for i in range(count)]
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def save(one_by_one: bool) -> float:
        _, (conversation_id,) = await new_conversation(engine)
        start = time.perf_counter()
        async with sessions() as s:
            storage = ConversationStorage(s)
            if one_by_one:
                for message in messages:
                    await storage.save_message(conversation_id, message)
            else:
                await storage.save_messages(conversation_id, messages)
            await s.commit()
        return time.perf_counter() - start

    bulk, one_by_one = await save(one_by_one=False), await save(one_by_one=True)
    return {"seconds": bulk, "messages_per_s": count / bulk, "one_by_one_seconds": one_by_one}


async def w6_list(engine: AsyncEngine, conversations: int, repeat: int) -> dict[str, float]:
    """The first page of a user's conversation list, when they have `conversations`."""
    user_id, _ = await new_conversation(engine, conversations)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE conversations"))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        # Listing asks no assistant.
        service = ConversationService(s, user_id, "bench-secret", AssistantRegistry())
        samples = await timed(lambda: service.list("false", 20, None), repeat)
    return {"first_page_ms": median_ms(samples)}


async def w7_operator_commands(database_url: str) -> dict[str, float]:
    """`surfsense-db stats` and `prune --dry-run`, wall time including start-up."""
    from pathlib import Path  # noqa: PLC0415

    cli = str(Path(sys.executable).parent / "surfsense-db")
    results = {}
    for name, args in (("stats_s", ["stats"]), ("prune_dry_run_s", ["prune", "--dry-run"])):
        start = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            cli, *args, env={"DATABASE_URL": database_url, "PATH": ""}, stdout=asyncio.subprocess.DEVNULL
        )
        if await process.wait() != 0:
            raise RuntimeError(f"surfsense-db {' '.join(args)} failed")
        results[name] = time.perf_counter() - start
    return results


async def put_memories(client: httpx.AsyncClient, memories: Sequence[str]) -> None:
    """The caller's memories, put where the chat agent recalls them from (its
    `("memories",)` namespace), through the store: embedded as it embeds them."""
    for key, memory in enumerate(memories):
        item = {"namespace": ["memories"], "key": f"m{key}", "value": {"text": memory}, "index": ["text"]}
        (await client.put("/langgraph/store/items", json=item)).raise_for_status()


async def statements_per_turn(
    database_url: str, turns: int, memories: Sequence[str] = ()
) -> dict[str, float]:
    """What the server receives for one JSON turn of the chat agent through the
    routes (`POST .../messages`, its authentication included), counted on the
    wire by a proxy in front of it: simple queries and extended-protocol
    executes. The user has `memories` stored before the turns."""
    counter = counter_for(database_url)
    async with counter.serving():
        # No token delay: no progress write lands inside a turn, so each turn counts the same.
        lifespan, client, _ = await _client(counter.url(database_url), LocalChatModel(), background=False)
        try:
            await put_memories(client, memories)
            conversation = (await client.post("/api/v1/conversations", json={})).json()["id"]
            url = f"/api/v1/conversations/{conversation}/messages"
            await client.post(url, json={"content": TEXT})  # warm: first-use lookups
            before = counter.messages.copy()
            for _ in range(turns):
                assert (await client.post(url, json={"content": TEXT})).status_code == 200
            sent = counter.messages - before
        finally:
            await client.aclose()
            await lifespan.__aexit__(None, None, None)
    return {
        "statements_per_turn": (sent[b"Q"] + sent[b"E"]) / turns,
        "simple_queries_per_turn": sent[b"Q"] / turns,
        "executes_per_turn": sent[b"E"] / turns,
    }
