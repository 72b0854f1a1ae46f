"""Prune never changes the state of a checkpoint it keeps, whatever shape the
thread has: DeltaChannel threads as LangGraph writes them, threads whose
metadata has no per-channel counters (LangGraph.js, other versions), threads
that mark themselves `delta_writes_versioned`; with the saver's keep_latest
and with retention's keep-newest, with and without the graph's snapshots.
Each generated thread is loaded at every kept checkpoint before and after."""

import random
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypedDict

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

from app.services.persistence import MessageCheckpointer
from app.services.persistence.retention import keep_newest
from app.services.persistence.saver import PooledPostgresSaver

Shape = Literal["as written", "no counters", "versioned, no counters"]
SHAPES: list[Shape] = ["as written", "no counters", "versioned, no counters"]


def _fold(state: Any, batches: Sequence[Any]) -> Any:
    for batch in batches:
        state = add_messages(state, batch)
    return state


def _graph(saver: PooledPostgresSaver, snapshot_every: int) -> CompiledStateGraph[Any, Any, Any, Any]:
    class State(TypedDict):
        messages: Annotated[list[AnyMessage], DeltaChannel(_fold, snapshot_frequency=snapshot_every)]
        notes: str

    def answer(state: Any) -> dict[str, Any]:
        text = state["messages"][-1].content
        return {"messages": [AIMessage(content=f"echo: {text}")], "notes": f"last: {text}"}

    builder: StateGraph[Any] = StateGraph(State)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(checkpointer=saver)


async def _reshape(saver: PooledPostgresSaver, thread: str, shape: Shape) -> None:
    """Rewrite the thread's metadata as another writer would have left it."""
    if shape == "as written":
        return
    async with saver._cursor() as cur:
        await cur.execute(
            "UPDATE checkpoints SET metadata = metadata - 'counters_since_delta_snapshot'"
            " WHERE thread_id = %s",
            (thread,),
        )
        if shape == "versioned, no counters":
            await cur.execute(
                "UPDATE checkpoints SET metadata = metadata || '{\"delta_writes_versioned\": true}'::jsonb"
                " WHERE thread_id = %s",
                (thread,),
            )


async def _states(graph: CompiledStateGraph[Any, Any, Any, Any], thread: str) -> dict[str, Any]:
    """Every checkpoint's loaded values, by id."""
    states: dict[str, Any] = {}
    async for snapshot in graph.aget_state_history({"configurable": {"thread_id": thread}}):
        states[snapshot.config["configurable"]["checkpoint_id"]] = snapshot.values
    return states


@pytest.mark.parametrize("seed", range(12))
async def test_prune_keeps_every_kept_state_exactly(checkpointer: MessageCheckpointer, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible thread shapes, not secrets
    saver = await checkpointer.get_saver()
    assert isinstance(saver, PooledPostgresSaver)
    snapshot_every = rng.choice([2, 3, 5, 1000])
    graph = _graph(saver, snapshot_every)
    cases = [
        (shape, how) for shape in SHAPES for how in ("keep_latest", "keep newest", "keep newest, rebased")
    ]
    for shape, how in cases:
        thread = f"shape-{seed}-{uuid.uuid4()}"
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        for turn in range(rng.randint(1, 9)):
            await graph.ainvoke({"messages": [HumanMessage(content=f"turn {turn}")]}, config)
        await _reshape(saver, thread, shape)
        before = await _states(graph, thread)
        newest = list(before)  # newest first
        if how == "keep_latest":
            await saver.aprune([thread], strategy="keep_latest")
            kept = newest[:1]
        else:
            count = rng.randint(1, len(newest))

            async def values_at(thread_id: str, ns: str, checkpoint_id: str) -> dict[str, Any]:
                found = await graph.aget_state(
                    {"configurable": {"thread_id": thread_id, "checkpoint_id": checkpoint_id}}
                )
                return dict(found.values)

            pruner = checkpointer.pruner()
            pruner.rebase = values_at if how.endswith("rebased") else None
            async with checkpointer.pool.connection() as conn:  # type: ignore[union-attr]
                await pruner.prune(conn, thread, keep_newest(count))
            kept = newest[:count]
        after = await _states(graph, thread)
        where = f"{shape}, {how}, snapshot every {snapshot_every}, {len(newest)} checkpoints"
        assert set(kept) <= set(after), where
        for checkpoint_id, values in after.items():
            assert values == before[checkpoint_id], f"{where}: {checkpoint_id} changed"
        await saver.adelete_thread(thread)
