"""A run reads the state it starts from once: the read made as it was admitted
(`GraphAgent.waiting`) answers the graph's own first read, and nothing else."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import get_checkpoint_id
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from app.agents.graph_agent import Finished, GraphAgent, Waiting
from app.services.persistence import MessageCheckpointer
from app.services.persistence.delta_history import delta_history_rows
from app.services.persistence.saver import PooledPostgresSaver
from tests.graphs import reply_to


@dataclass
class Reads:
    """The saver's reads that reach the database: checkpoints by (namespace,
    checkpoint asked for), and DeltaChannel histories by checkpoint."""

    checkpoints: list[tuple[str, str | None]] = field(default_factory=list)
    histories: list[str | None] = field(default_factory=list)

    def clear(self) -> None:
        self.checkpoints.clear()
        self.histories.clear()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    """Every read goes on to the database as before; each is noted on its way."""
    seen = Reads()
    stock_tuple = AsyncPostgresSaver.aget_tuple

    async def aget_tuple(self: AsyncPostgresSaver, config: RunnableConfig) -> Any:
        seen.checkpoints.append((config["configurable"].get("checkpoint_ns", ""), get_checkpoint_id(config)))
        return await stock_tuple(self, config)

    async def history_rows(saver: Any, config: RunnableConfig, channels: Any) -> Any:
        seen.histories.append(get_checkpoint_id(config))
        return await delta_history_rows(saver, config, channels)

    monkeypatch.setattr(AsyncPostgresSaver, "aget_tuple", aget_tuple)
    monkeypatch.setattr("app.services.persistence.saver.delta_history_rows", history_rows)
    return seen


def _append(state: Any, batches: Sequence[Any]) -> Any:
    for batch in batches:
        state = add_messages(state, batch)
    return state


class _State(TypedDict):
    # Never a snapshot: each state read is the checkpoint and its messages' history.
    messages: Annotated[list[AnyMessage], DeltaChannel(_append, snapshot_frequency=10_000)]


def _echo(state: Any) -> dict[str, list[AnyMessage]]:
    return {"messages": [AIMessage(f"echo: {state['messages'][-1].text}")]}


@pytest.fixture
async def agent(checkpointer: MessageCheckpointer) -> GraphAgent:
    saver = await checkpointer.get_saver()
    assert isinstance(saver, PooledPostgresSaver)
    builder: StateGraph[Any] = StateGraph(_State)
    builder.add_node("echo", _echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    return GraphAgent("echo", builder.compile(checkpointer=saver))


async def _turns(agent: GraphAgent, n: int) -> tuple[str, list[str]]:
    """A thread with `n` turns, and the checkpoint each turn ended at."""
    thread = str(uuid.uuid4())
    return thread, [(await reply_to(agent.graph, thread, f"q{i}")).checkpoint_id for i in range(n)]


def _config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread}}


async def _run(
    agent: GraphAgent, thread: str, text: str, waiting: Waiting, at: str | None = None
) -> Finished:
    events = [
        e async for e in agent.run(thread, agent.message_input(text), waiting=waiting, checkpoint_id=at)
    ]
    outcome = events[-1]
    assert isinstance(outcome, Finished)
    return outcome


async def _texts(agent: GraphAgent, thread: str) -> list[str]:
    state = await agent.graph.aget_state(_config(thread))
    return [m.text for m in state.values["messages"]]


class TestARunReadsItsStartOnce:
    async def test_from_the_latest_checkpoint(self, agent: GraphAgent, reads: Reads) -> None:
        thread, _ = await _turns(agent, 3)
        reads.clear()
        waiting = await agent.waiting(thread)
        await _run(agent, thread, "q3", waiting)
        # The admission's read, and none by the graph as it starts.
        assert reads.checkpoints == [("", None)]
        assert reads.histories == [waiting.checkpoint_id]
        assert await _texts(agent, thread) == [t for i in range(4) for t in (f"q{i}", f"echo: q{i}")]

    async def test_from_an_earlier_checkpoint(self, agent: GraphAgent, reads: Reads) -> None:
        thread, checkpoints = await _turns(agent, 3)
        at = checkpoints[1]  # the end of the second turn
        reads.clear()
        waiting = await agent.waiting(thread, at)
        await _run(agent, thread, "again", waiting, at)
        # LangGraph asks whether a newer checkpoint supersedes it: a read of its own.
        assert reads.checkpoints == [("", at), ("", None)]
        assert reads.histories == [at]
        assert await _texts(agent, thread) == ["q0", "echo: q0", "q1", "echo: q1", "again", "echo: again"]

    async def test_of_a_new_thread(self, agent: GraphAgent, reads: Reads) -> None:
        thread = str(uuid.uuid4())
        waiting = await agent.waiting(thread)
        await _run(agent, thread, "hello", waiting)
        # Found empty once: the graph is told so without asking again.
        assert reads.checkpoints == [("", None)]
        assert await _texts(agent, thread) == ["hello", "echo: hello"]


class TestAReadNotOfTheRunsStartIsNeverUsed:
    async def test_one_of_another_checkpoint(self, agent: GraphAgent, reads: Reads) -> None:
        thread, checkpoints = await _turns(agent, 3)
        stale = await agent.waiting(thread, checkpoints[1])
        reads.clear()
        await _run(agent, thread, "q3", stale)  # from the latest
        assert reads.checkpoints == [("", None)]
        assert len(await _texts(agent, thread)) == 8

    async def test_one_of_another_thread(self, agent: GraphAgent, reads: Reads) -> None:
        other, _ = await _turns(agent, 1)
        thread, _ = await _turns(agent, 2)
        stale = await agent.waiting(other)
        reads.clear()
        await _run(agent, thread, "q2", stale)
        assert reads.checkpoints == [("", None)]
        assert await _texts(agent, thread) == [t for i in range(3) for t in (f"q{i}", f"echo: q{i}")]

    async def test_one_a_run_used_already(self, agent: GraphAgent, reads: Reads) -> None:
        thread, _ = await _turns(agent, 1)
        waiting = await agent.waiting(thread)
        await _run(agent, thread, "q1", waiting)
        reads.clear()
        await _run(agent, thread, "q2", waiting)  # the same Waiting again: the thread moved on
        assert reads.checkpoints == [("", None)]
        assert await _texts(agent, thread) == [t for i in range(3) for t in (f"q{i}", f"echo: q{i}")]

    async def test_one_outside_a_run(self, agent: GraphAgent, reads: Reads) -> None:
        thread, _ = await _turns(agent, 1)
        await agent.waiting(thread)
        reads.clear()
        # Kept, but no run was primed with it: a plain read goes to the database.
        await agent.graph.ainvoke({"messages": [HumanMessage("q1")]}, _config(thread))
        assert reads.checkpoints == [("", None)]
