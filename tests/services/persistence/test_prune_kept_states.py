"""Prune never changes the state of a checkpoint it keeps (decision 0010), on
this project's schema and on the one the stock saver's `setup()` makes.

Every checkpoint that remains, in every namespace, is loaded through
LangGraph before and after, over generated threads: graphs with several
DeltaChannels that snapshot at different rates and a subgraph with a
namespace of its own; threads whose channels were plain before they became
DeltaChannels; and rows built as LangGraph's own delta-history fixtures
build them (inline nulls, plain-value seeds, snapshots, bare version bumps).
And one thread's unreadable rows never stop or half-apply the others.
"""

import random
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypedDict

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import Checkpoint, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from langgraph.graph import END, START, StateGraph
from langgraph.pregel import Pregel
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from app.agents import compile_assistants
from app.agents.local_model import LocalChatModel
from app.config import psycopg_conninfo
from app.services.persistence import MessageCheckpointer, ThreadsNotPruned
from app.services.persistence.retention import Rebase, ThreadPruner, keep_newest, keep_since
from app.services.persistence.saver import PooledPostgresSaver
from tests.database import drop_database, recreate_database, scratch_name
from tests.graphs import chat, echo_graph

Graph = Pregel[Any, Any, Any, Any]
How = Literal["keep_latest", "keep newest", "keep newest, rebased"]
HOWS: list[How] = ["keep_latest", "keep newest", "keep newest, rebased"]


def _extend(state: Any, batches: Sequence[Any]) -> list[Any]:
    # A seed may be any stored value, `None` or a string included.
    items = list(state or [])
    for batch in batches:
        items.extend(batch)
    return items


@asynccontextmanager
async def _on_the_stock_schema(test_server_url: str) -> AsyncIterator[PooledPostgresSaver]:
    """Our saver on a database the stock saver's own `setup()` made."""
    name = scratch_name("prune_stock")
    conninfo = psycopg_conninfo(await recreate_database(test_server_url, name))
    async with AsyncPostgresSaver.from_conn_string(conninfo) as stock:
        await stock.setup()
    try:
        async with AsyncConnectionPool(
            conninfo, kwargs={"autocommit": True, "row_factory": dict_row}, open=False
        ) as pool:
            yield PooledPostgresSaver(pool)
    finally:
        await drop_database(test_server_url, name)


@pytest.fixture(params=["alembic", "stock setup()"])
async def saver(
    request: pytest.FixtureRequest, checkpointer: MessageCheckpointer, test_server_url: str
) -> AsyncIterator[PooledPostgresSaver]:
    if request.param == "alembic":
        found = await checkpointer.get_saver()
        assert isinstance(found, PooledPostgresSaver)
        yield found
        return
    async with _on_the_stock_schema(test_server_url) as stock:
        yield stock


@pytest.fixture
async def stock_saver(test_server_url: str) -> AsyncIterator[PooledPostgresSaver]:
    async with _on_the_stock_schema(test_server_url) as stock:
        yield stock


def _config(thread: str, ns: str = "", checkpoint_id: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


async def _states(saver: PooledPostgresSaver, graph: Graph, thread: str) -> dict[tuple[str, str], Any]:
    """Every checkpoint's values as LangGraph loads them, by (namespace, id)."""
    async with saver._cursor() as cur:
        await cur.execute("SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = %s", (thread,))
        namespaces = [row["checkpoint_ns"] for row in await cur.fetchall()]
    states: dict[tuple[str, str], Any] = {}
    for ns in namespaces:
        async for snapshot in graph.aget_state_history(_config(thread, ns)):
            states[(ns, snapshot.config["configurable"]["checkpoint_id"])] = snapshot.values
    return states


def _rebase(graph: Graph) -> Rebase:
    async def values_at(thread_id: str, ns: str, checkpoint_id: str) -> dict[str, Any]:
        if ns:
            return {}
        return dict((await graph.aget_state(_config(thread_id, ns, checkpoint_id))).values)

    return values_at


async def _prune_and_compare(
    saver: PooledPostgresSaver, graph: Graph, thread: str, how: How, *, rng: random.Random, where: str
) -> None:
    before = await _states(saver, graph, thread)
    root = [checkpoint_id for ns, checkpoint_id in before if ns == ""]  # newest first
    if how == "keep_latest":
        await saver.aprune([thread], strategy="keep_latest")
        kept = root[:1]
    else:
        count = rng.randint(1, len(root))
        pruner = ThreadPruner(saver.serde, _rebase(graph) if how.endswith("rebased") else None)
        async with saver._cursor() as cur:
            await pruner.prune(cur.connection, thread, keep_newest(count))
        kept = root[:count]
    after = await _states(saver, graph, thread)
    where = f"{where}, {how}, {len(before)} checkpoint(s)"
    assert {("", checkpoint_id) for checkpoint_id in kept} <= set(after), where
    changed = {key: (before[key], values) for key, values in after.items() if values != before[key]}
    assert changed == {}, f"{where}: kept checkpoints changed"


def _channels_graph(
    saver: PooledPostgresSaver, channels: Sequence[tuple[int, int]], sub_rate: int | None
) -> Graph:
    """A graph with DeltaChannels `d0`, `d1`, `d2`, one for each (snapshot
    rate, period) given: it snapshots every `rate` updates, and turn t writes
    to it when t is a multiple of `period` (a channel not given is never
    written). With `sub_rate`, a subgraph with a DeltaChannel of its own runs
    each turn."""
    rates = [rate for rate, _ in channels] + [100] * (3 - len(channels))

    class State(TypedDict):
        d0: Annotated[list[Any], DeltaChannel(_extend, snapshot_frequency=rates[0])]
        d1: Annotated[list[Any], DeltaChannel(_extend, snapshot_frequency=rates[1])]
        d2: Annotated[list[Any], DeltaChannel(_extend, snapshot_frequency=rates[2])]
        turn: int

    def step(state: Any) -> dict[str, Any]:
        turn = state["turn"]
        return {f"d{i}": [f"d{i}:{turn}"] for i, (_, period) in enumerate(channels) if turn % period == 0}

    builder: StateGraph[Any] = StateGraph(State)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    last = "step"
    if sub_rate is not None:

        class SubState(TypedDict):
            turn: int
            log: Annotated[list[Any], DeltaChannel(_extend, snapshot_frequency=sub_rate)]

        sub: StateGraph[Any] = StateGraph(SubState)
        sub.add_node("first", lambda values: {"log": [f"a{values['turn']}"]})
        sub.add_node("second", lambda values: {"log": [f"b{values['turn']}"]})
        sub.add_edge(START, "first")
        sub.add_edge("first", "second")
        sub.add_edge("second", END)
        builder.add_node("sub", sub.compile())
        builder.add_edge("step", "sub")
        last = "sub"
    builder.add_edge(last, END)
    return builder.compile(checkpointer=saver)


class TestInlineNull:
    async def test_the_writes_before_an_inline_null_stay(self, saver: PooledPostgresSaver) -> None:
        # LangGraph's plain-value-seed fixture with a `None` seed: the walk
        # reads past the null to the root, so the latest needs step 0's write.
        thread = f"null-{uuid.uuid4()}"
        graph = _items_graph(saver)
        parent: str | None = None
        for step in range(4):
            checkpoint = empty_checkpoint()
            checkpoint["id"] = str(uuid6(clock_seq=step))
            checkpoint["channel_versions"]["items"] = f"v{step}"
            if step == 1:
                checkpoint["channel_values"]["items"] = None
            stored = await saver.aput(
                _config(thread, "", parent), checkpoint, {"step": step}, {"items": f"v{step}"}
            )
            await saver.aput_writes(stored, [("items", [f"w{step}"])], str(uuid.uuid4()))
            parent = stored["configurable"]["checkpoint_id"]
        latest = await graph.aget_state(_config(thread))
        assert latest.values["items"] == ["w0", "w1", "w2"]

        await saver.aprune([thread], strategy="keep_latest")

        assert (await graph.aget_state(_config(thread))).values["items"] == ["w0", "w1", "w2"]


def _items_graph(saver: PooledPostgresSaver) -> Graph:
    class State(TypedDict):
        items: Annotated[list[Any], DeltaChannel(_extend)]
        more: Annotated[list[Any], DeltaChannel(_extend)]

    builder: StateGraph[Any] = StateGraph(State)
    builder.add_node("noop", lambda values: {})
    builder.add_edge(START, "noop")
    builder.add_edge("noop", END)
    return builder.compile(checkpointer=saver)


class TestKeptAncestors:
    async def test_channels_snapshotting_at_different_rates_all_load(
        self, saver: PooledPostgresSaver
    ) -> None:
        thread = f"rates-{uuid.uuid4()}"
        graph = _channels_graph(saver, [(100, 1), (7, 1)], None)
        for turn in range(104):
            # d0's snapshot at its 100th update is newer than d1's last, at its 98th:
            # the ancestors kept for d1 are rebuilt from d0's previous snapshot.
            await graph.ainvoke({"turn": turn}, _config(thread))
        rng = random.Random(0)  # noqa: S311 - keep_latest draws nothing from it
        await _prune_and_compare(saver, graph, thread, "keep_latest", rng=rng, where="rates 100, 7")


async def _build_rows(saver: PooledPostgresSaver, thread: str, rng: random.Random) -> None:
    """Checkpoints as LangGraph's delta-history fixtures write them, per channel:
    a plain era (an inline null, or a list blob, at every checkpoint), then a
    DeltaChannel era (nothing stored, or a snapshot at an update)."""
    steps = rng.randint(3, 14)
    plan = {
        channel: (rng.randint(0, steps), rng.choice(["null", "list", "string"]), rng.choice([0.0, 0.3]))
        for channel in ("items", "more")
    }
    counters = rng.random() < 0.5
    parent: str | None = None
    wrote: set[str] = set()
    versions: dict[str, int] = {}
    for step in range(steps):
        checkpoint: Checkpoint = empty_checkpoint()
        checkpoint["id"] = str(uuid6(clock_seq=step))
        bumped: dict[str, str] = {}
        for channel, (plain_until, kind, snapshot_odds) in plan.items():
            if step == 0 or channel in wrote:
                versions[channel] = versions.get(channel, 0) + 1
                bumped[channel] = f"{versions[channel]:08d}"
            checkpoint["channel_versions"][channel] = f"{versions[channel]:08d}"
            if step < plain_until:
                stored = {"null": None, "list": [f"{channel}-plain-{versions[channel]}"], "string": "s"}[kind]
                checkpoint["channel_values"][channel] = stored
            elif channel in bumped and rng.random() < snapshot_odds:
                checkpoint["channel_values"][channel] = _DeltaSnapshot([f"{channel}-snap-{step}"])
        metadata: dict[str, Any] = {"step": step, "source": "loop", "parents": {}}
        if counters:
            metadata["counters_since_delta_snapshot"] = {"items": step, "more": step}
        stored_config = await saver.aput(_config(thread, "", parent), checkpoint, metadata, bumped)  # type: ignore[arg-type]
        wrote = {channel for channel in plan if rng.random() < 0.7}
        writes = [(channel, [f"{channel}:{step}"]) for channel in sorted(wrote)]
        if writes:
            await saver.aput_writes(stored_config, writes, str(uuid.uuid4()))
        parent = stored_config["configurable"]["checkpoint_id"]


async def _plain_then_delta(saver: PooledPostgresSaver, thread: str, rng: random.Random) -> Graph:
    """Turns written while `d0` was a plain list (a reducer channel), then
    turns with it a DeltaChannel; the thread is read with the latter."""

    class Plain(TypedDict):
        d0: Annotated[list[Any], _extend_plain]
        turn: int

    plain: StateGraph[Any] = StateGraph(Plain)
    plain.add_node("step", lambda values: {"d0": [f"plain:{values['turn']}"]})
    plain.add_edge(START, "step")
    plain.add_edge("step", END)
    old = plain.compile(checkpointer=saver)
    for turn in range(rng.randint(1, 5)):
        await old.ainvoke({"turn": turn}, _config(thread))
    graph = _channels_graph(saver, [(rng.choice([2, 3, 100]), 1)], None)
    for turn in range(rng.randint(1, 8)):
        await graph.ainvoke({"turn": turn}, _config(thread))
    return graph


def _extend_plain(state: list[Any], update: list[Any]) -> list[Any]:
    return [*state, *update]


class TestGeneratedShapes:
    """Every kept checkpoint loads as it did, whatever the thread's shape."""

    @pytest.mark.parametrize("seed", range(4))
    async def test_graphs_with_several_delta_channels_and_a_subgraph(
        self, saver: PooledPostgresSaver, seed: int
    ) -> None:
        rng = random.Random(seed)  # noqa: S311 - reproducible thread shapes, not secrets
        rates = [(rng.choice([2, 3, 7, 100]), rng.randint(1, 3)) for _ in range(rng.randint(2, 3))]
        sub_rate = rng.choice([None, 2, 5])
        graph = _channels_graph(saver, rates, sub_rate)
        for how in HOWS:
            thread = f"graph-{seed}-{uuid.uuid4()}"
            for turn in range(rng.randint(1, 24)):
                await graph.ainvoke({"turn": turn}, _config(thread))
            where = f"(rate, period) {rates}, subgraph {sub_rate}"
            await _prune_and_compare(saver, graph, thread, how, rng=rng, where=where)

    @pytest.mark.parametrize("seed", range(4))
    async def test_rows_with_inline_nulls_plain_seeds_and_snapshots(
        self, saver: PooledPostgresSaver, seed: int
    ) -> None:
        rng = random.Random(seed)  # noqa: S311 - reproducible thread shapes, not secrets
        graph = _items_graph(saver)
        for attempt in range(6):
            for how in HOWS:
                thread = f"rows-{seed}-{attempt}-{uuid.uuid4()}"
                await _build_rows(saver, thread, rng)
                where = f"seed {seed}, attempt {attempt}"
                await _prune_and_compare(saver, graph, thread, how, rng=rng, where=where)

    @pytest.mark.parametrize("seed", range(2))
    async def test_threads_whose_channel_was_plain_before(
        self, saver: PooledPostgresSaver, seed: int
    ) -> None:
        rng = random.Random(seed)  # noqa: S311 - reproducible thread shapes, not secrets
        for how in HOWS:
            thread = f"plain-then-delta-{seed}-{uuid.uuid4()}"
            graph = await _plain_then_delta(saver, thread, rng)
            where = f"plain then delta, seed {seed}"
            await _prune_and_compare(saver, graph, thread, how, rng=rng, where=where)


class TestTheAppsGraphs:
    async def test_the_chat_assistant_past_a_snapshot(self, saver: PooledPostgresSaver) -> None:
        """The chat graph as the app compiles it, past its messages' first
        snapshot (every 50 updates), pruned as aprune and the sweeper do."""
        agent = (await compile_assistants(saver, LocalChatModel()))["chat"]
        rng = random.Random(0)  # noqa: S311 - reproducible thread shapes, not secrets
        for how in HOWS:
            thread = f"chat-{uuid.uuid4()}"
            for turn in range(27):
                await agent.graph.ainvoke({"messages": [HumanMessage(content=f"q{turn}")]}, _config(thread))
            await _prune_and_compare(saver, agent.graph, thread, how, rng=rng, where="chat, 27 turns")


async def _count(saver: PooledPostgresSaver, thread: str) -> int:
    async with saver._cursor() as cur:
        await cur.execute("SELECT count(*) AS n FROM checkpoints WHERE thread_id = %s", (thread,))
        row = await cur.fetchone()
        return int(row["n"]) if row else 0


async def _delta_threads(saver: PooledPostgresSaver, label: str, count: int) -> tuple[Graph, list[str]]:
    graph = echo_graph(saver, delta=True)
    threads = [f"{label}-{n}-{uuid.uuid4()}" for n in range(count)]
    for thread in threads:
        for turn in range(4):
            await chat(graph, thread, f"turn {turn}")
    return graph, threads


async def _set(saver: PooledPostgresSaver, thread: str, path: str, value: str, *, oldest_only: bool) -> None:
    """Rewrite part of a thread's checkpoints as no LangGraph would have written it."""
    where = "thread_id = %s"
    if oldest_only:
        where += " AND checkpoint_id = (SELECT min(checkpoint_id) FROM checkpoints WHERE thread_id = %s)"
    async with saver._cursor() as cur:
        await cur.execute(
            f"UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, %s, %s::jsonb) WHERE {where}",
            (f"{{{path}}}", value, thread, *((thread,) if oldest_only else ())),
        )


class TestOneThreadAtATime:
    """One thread's rows never stop or half-apply the prune of the others."""

    async def test_keep_latest_reads_no_ages(self, saver: PooledPostgresSaver) -> None:
        # On the stock schema the age is the checkpoint's `ts`: keep_latest has no use for it.
        graph, threads = await _delta_threads(saver, "ts", 3)
        await _set(saver, threads[1], "ts", '"not a time"', oldest_only=False)
        before = {thread: await _states(saver, graph, thread) for thread in threads}
        try:
            await saver.aprune(threads, strategy="keep_latest")

            for thread in threads:
                after = await _states(saver, graph, thread)
                assert len(after) < len(before[thread]), thread
                assert after == {key: before[thread][key] for key in after}, thread
        finally:
            await saver.adelete_thread(threads[1])

    async def test_an_unreadable_thread_is_named_and_the_others_are_pruned(
        self, saver: PooledPostgresSaver
    ) -> None:
        graph, threads = await _delta_threads(saver, "unreadable", 3)
        broken = threads[1]
        await _set(saver, broken, "channel_versions", "[1]", oldest_only=True)
        rows = {thread: await _count(saver, thread) for thread in threads}
        try:
            with pytest.raises(ThreadsNotPruned) as raised:
                await saver.aprune(threads, strategy="keep_latest")

            assert list(raised.value.reasons) == [broken]
            assert "jsonb_each_text" in raised.value.reasons[broken]
            assert await _count(saver, broken) == rows[broken]
            for thread in (threads[0], threads[2]):
                assert await _count(saver, thread) < rows[thread], thread
                messages = (await graph.aget_state(_config(thread))).values["messages"]
                assert [m.content for m in messages][0::2] == [f"turn {turn}" for turn in range(4)]
        finally:
            # Other tests sweep the whole database.
            await saver.adelete_thread(broken)

    async def test_a_plain_thread_the_stock_prune_cannot_read_is_named_too(
        self, saver: PooledPostgresSaver
    ) -> None:
        # Plain threads go through the stock prune, which casts the latest's `v`.
        graph = echo_graph(saver)
        threads = [f"plain-unreadable-{n}-{uuid.uuid4()}" for n in range(3)]
        for thread in threads:
            for turn in range(3):
                await chat(graph, thread, f"turn {turn}")
        broken = threads[1]
        async with saver._cursor() as cur:
            await cur.execute(
                "UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, '{v}', '\"four\"')"
                " WHERE thread_id = %s",
                (broken,),
            )
        rows = {thread: await _count(saver, thread) for thread in threads}
        try:
            with pytest.raises(ThreadsNotPruned) as raised:
                await saver.aprune(threads, strategy="keep_latest")

            assert list(raised.value.reasons) == [broken]
            assert await _count(saver, broken) == rows[broken]
            assert [await _count(saver, thread) for thread in (threads[0], threads[2])] == [1, 1]
        finally:
            await saver.adelete_thread(broken)

    async def test_an_age_that_is_not_a_timestamp_leaves_the_thread_whole(
        self, stock_saver: PooledPostgresSaver
    ) -> None:
        _, [thread] = await _delta_threads(stock_saver, "age", 1)
        await _set(stock_saver, thread, "ts", '"yesterday-ish"', oldest_only=True)
        rows = await _count(stock_saver, thread)
        pruner = ThreadPruner(stock_saver.serde)

        with pytest.raises(ThreadsNotPruned, match=r"yesterday-ish.*not a timestamp") as raised:
            async with stock_saver._cursor() as cur:
                await pruner.prune(cur.connection, thread, keep_since(datetime.now(UTC) + timedelta(days=1)))

        assert list(raised.value.reasons) == [thread]
        assert await _count(stock_saver, thread) == rows

    async def test_a_sweep_goes_on_past_a_thread_it_cannot_read(
        self, checkpointer: MessageCheckpointer
    ) -> None:
        saver = await checkpointer.get_saver()
        assert isinstance(saver, PooledPostgresSaver)
        _, threads = await _delta_threads(saver, "sweep", 3)
        broken = threads[1]
        await _set(saver, broken, "channel_versions", "[1]", oldest_only=True)
        rows = {thread: await _count(saver, thread) for thread in threads}
        try:
            assert await checkpointer.enforce_max_history(keep=1) > 0
            assert await _count(saver, broken) == rows[broken]
            for thread in (threads[0], threads[2]):
                assert await _count(saver, thread) < rows[thread], thread
        finally:
            await saver.adelete_thread(broken)
