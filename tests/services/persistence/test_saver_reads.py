"""The saver's two reads that differ from the stock saver's return what the
stock ones do, at a cost that does not grow with the thread."""

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.postgres import aio
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from app.services.persistence import MessageCheckpointer
from app.services.persistence.delta_history import DELTA_PAGE_SIZE
from app.services.persistence.saver import PooledPostgresSaver
from tests.graphs import chat, echo_graph


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


async def test_loading_a_checkpoint_looks_up_each_blob_by_its_key(checkpointer: MessageCheckpointer) -> None:
    saver = await checkpointer.get_saver()
    assert isinstance(saver, PooledPostgresSaver)
    thread = str(uuid.uuid4())
    graph = echo_graph(saver)  # the whole list in each checkpoint: a blob version per step
    for i in range(20):
        await chat(graph, thread, f"q{i}")
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    ours = await saver.aget_tuple(config)
    stock = await AsyncPostgresSaver(saver.conn).aget_tuple(config)
    assert ours is not None
    assert stock is not None
    assert ours.checkpoint == stock.checkpoint
    assert ours.pending_writes == stock.pending_writes

    async with saver._cursor() as cur:
        await cur.execute("ANALYZE checkpoint_blobs")
        await cur.execute(
            f"EXPLAIN (FORMAT JSON) {saver.SELECT_SQL} WHERE thread_id = %s AND checkpoint_ns = ''"
            " ORDER BY checkpoint_id DESC LIMIT 1",
            (thread,),
        )
        row = await cur.fetchone()
    assert row is not None
    (plan,) = row["QUERY PLAN"]
    blob_reads = [n for n in _plan_nodes(plan["Plan"]) if n.get("Relation Name") == "checkpoint_blobs"]
    assert blob_reads, plan
    for read in blob_reads:
        assert read.get("Index Name") == "checkpoint_blobs_pkey", read
        assert "channel" in read["Index Cond"], read
        assert "version" in read["Index Cond"], read


def _append(state: Any, batches: Sequence[Any]) -> Any:
    for batch in batches:
        state = add_messages(state, batch)
    return state


class _NoSnapshotState(TypedDict):
    messages: Annotated[list[AnyMessage], DeltaChannel(_append, snapshot_frequency=10_000)]


async def test_a_delta_channel_is_rebuilt_from_writes_many_pages_back(
    checkpointer: MessageCheckpointer,
) -> None:
    saver = await checkpointer.get_saver()
    assert isinstance(saver, PooledPostgresSaver)
    # Our pages are our own: the stock saver's constant, for every other saver, is untouched.
    assert vars(aio)["_DELTA_PAGE_SIZE"] == 1024
    builder: StateGraph[Any] = StateGraph(_NoSnapshotState)
    builder.add_node("echo", lambda state: {"messages": [("ai", f"echo {len(state['messages'])}")]})
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    graph = builder.compile(checkpointer=saver)
    thread = str(uuid.uuid4())
    turns = DELTA_PAGE_SIZE + 10  # three checkpoints a turn: the walk reads three pages and more
    for i in range(turns):
        await chat(graph, thread, f"q{i}")

    state = await graph.aget_state({"configurable": {"thread_id": thread}})
    texts = [m.text for m in state.values["messages"]]
    assert texts == [text for i in range(turns) for text in (f"q{i}", f"echo {2 * i + 1}")]
    async with saver._cursor() as cur:
        await cur.execute("SELECT count(*) AS n FROM checkpoints WHERE thread_id = %s", (thread,))
        counted = await cur.fetchone()
    assert counted is not None
    assert counted["n"] > 3 * DELTA_PAGE_SIZE
    # Read by the stock saver's walk, in its own pages: the same history.
    config: RunnableConfig = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    ours = await saver.aget_delta_channel_history(config=config, channels=["messages"])
    theirs = await AsyncPostgresSaver(saver.conn).aget_delta_channel_history(
        config=config, channels=["messages"]
    )
    assert ours == theirs
