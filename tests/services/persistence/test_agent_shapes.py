"""Checkpoints of the agents people write, on the shared saver: a subgraph with
a namespace of its own, a tool step, and `interrupt()` waiting for a person.

Every row of every namespace carries its conversation's ownership columns;
retention, copying and deleting the conversation treat all of them; and a
pending interrupt is still resumable after a prune, after a copy, and from
a new saver (as after a restart).
"""

from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.services.persistence import MessageCheckpointer
from app.services.persistence.thread_copy import copy_thread
from tests.conftest import Owner


class _Summary(TypedDict):
    messages: list[AnyMessage]
    summary: str


class _Agent(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    summary: str
    note: str


def _summariser() -> CompiledStateGraph[Any, Any, Any, Any]:
    def summarise(state: Any) -> dict[str, Any]:
        return {"summary": f"{len(state['messages'])} message(s) so far"}

    builder: StateGraph[Any] = StateGraph(_Summary)
    builder.add_node("summarise", summarise)
    builder.add_edge(START, "summarise")
    builder.add_edge("summarise", END)
    return builder.compile()


def _agent(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """plan (a tool call) -> search (its result) -> summary (a subgraph) -> approve (interrupt) -> save."""

    def plan(state: Any) -> dict[str, Any]:
        call = {"name": "search", "args": {"q": state["messages"][-1].content}, "id": "call-1"}
        return {"messages": [AIMessage(content="", tool_calls=[call])]}

    def search(state: Any) -> dict[str, Any]:
        return {"messages": [ToolMessage(content="found 1 note", tool_call_id="call-1", name="search")]}

    def approve(state: Any) -> dict[str, Any]:
        answer = interrupt({"action": "save_note", "why": state["summary"]})
        return {"note": f"saved ({answer})"}

    def save(state: Any) -> dict[str, Any]:
        return {"messages": [AIMessage(content=state["note"])]}

    builder: StateGraph[Any] = StateGraph(_Agent)
    builder.add_node("plan", plan)
    builder.add_node("search", search)
    builder.add_node("summary", _summariser())
    builder.add_node("approve", approve)
    builder.add_node("save", save)
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "search")
    builder.add_edge("search", "summary")
    builder.add_edge("summary", "approve")
    builder.add_edge("approve", "save")
    builder.add_edge("save", END)
    return builder.compile(checkpointer=saver)


def _config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread}}


async def _interrupted(graph: CompiledStateGraph[Any, Any, Any, Any], thread: str) -> None:
    result = await graph.ainvoke({"messages": [HumanMessage(content="find my note")]}, _config(thread))
    [pending] = result["__interrupt__"]
    assert pending.value == {"action": "save_note", "why": "3 message(s) so far"}


async def _resumes(graph: CompiledStateGraph[Any, Any, Any, Any], thread: str) -> None:
    result = await graph.ainvoke(Command(resume="yes"), _config(thread))
    assert result["messages"][-1].content == "saved (yes)"
    assert [m.type for m in result["messages"]] == ["human", "ai", "tool", "ai"]


async def _rows(sessions: async_sessionmaker[AsyncSession], thread: str) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as s:
        for table in ("checkpoints", "checkpoint_writes", "checkpoint_blobs"):
            owner = "user_id" if table == "checkpoints" else "NULL"
            statement = text(
                f"SELECT checkpoint_ns, conversation_id, {owner} FROM {table} WHERE thread_id = :t"
            )
            found[table] = [tuple(row) for row in await s.execute(statement, {"t": thread})]
    return found


class TestInterruptedAgents:
    async def test_every_namespace_is_owned_and_goes_with_its_conversation(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        user, conversation = await make_conversation()
        graph = _agent(await checkpointer.get_saver())
        await _interrupted(graph, conversation.thread_id)
        rows = await _rows(committed, conversation.thread_id)
        assert {ns.split(":")[0] for ns, _, _ in rows["checkpoints"]} == {"", "summary"}
        for table, found in rows.items():
            assert found, table
            assert {owner for _, owner, _ in found} == {conversation.id}, table
        assert {user_id for _, _, user_id in rows["checkpoints"]} == {user.id}
        async with committed() as s:
            interrupts = await s.scalar(
                text(
                    "SELECT count(*) FROM checkpoint_writes"
                    " WHERE thread_id = :t AND channel = '__interrupt__'"
                ),
                {"t": conversation.thread_id},
            )
            assert interrupts == 1
            await s.execute(text("DELETE FROM conversations WHERE id = :c"), {"c": conversation.id})
            await s.commit()
        assert all(not found for found in (await _rows(committed, conversation.thread_id)).values())

    async def test_a_pending_interrupt_survives_prune_copy_and_a_new_saver(
        self, checkpointer: MessageCheckpointer, database_url: str, make_conversation: Owner
    ) -> None:
        _, conversation = await make_conversation()
        _, fork = await make_conversation()
        saver = await checkpointer.get_saver()
        thread = conversation.thread_id
        await _interrupted(_agent(saver), thread)

        await saver.aprune([thread], strategy="keep_latest")
        await checkpointer.enforce_max_history(keep=1)
        await saver.acopy_thread(thread, fork.thread_id)

        restarted = MessageCheckpointer(database_url, checkpointer.config)
        await restarted.initialize()
        try:
            graph = _agent(await restarted.get_saver())
            state = await graph.aget_state(_config(thread))
            assert [task.interrupts[0].value["action"] for task in state.tasks] == ["save_note"]
            await _resumes(graph, thread)
            await _resumes(graph, fork.thread_id)
        finally:
            await restarted.cleanup()

    async def test_a_fork_mid_tool_or_at_the_interrupt_carries_on(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, source = await make_conversation()
        graph = _agent(await checkpointer.get_saver())
        await _interrupted(graph, source.thread_id)
        history = [state async for state in graph.aget_state_history(_config(source.thread_id))]
        at = {state.next: state.config["configurable"]["checkpoint_id"] for state in history}
        for point in (("search",), ("approve",)):  # after the tool call; at the interrupt
            _, fork = await make_conversation()
            async with committed() as s:
                assert await copy_thread(s, source.thread_id, fork.thread_id, until=at[point]) > 0
                await s.commit()
            if point == ("search",):
                await _interrupted_again(graph, fork.thread_id)
            await _resumes(graph, fork.thread_id)
        # The source is untouched by its forks: still waiting at its interrupt.
        assert (await graph.aget_state(_config(source.thread_id))).next == ("approve",)


async def _interrupted_again(graph: CompiledStateGraph[Any, Any, Any, Any], thread: str) -> None:
    """Run a fork from where it was copied, up to the interrupt."""
    result = await graph.ainvoke(None, _config(thread))
    [pending] = result["__interrupt__"]
    assert pending.value["action"] == "save_note"


class TestFailedSteps:
    async def test_the_error_write_of_a_failed_step_is_owned(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()

        def broken(state: Any) -> dict[str, Any]:
            raise LookupError("the tool's service is gone")

        builder: StateGraph[Any] = StateGraph(_Agent)
        builder.add_node("ok", lambda state: {"note": "kept"})
        builder.add_node("broken", broken)
        # Two tasks in one step: the one that succeeded keeps its write, the other's error is written.
        builder.add_edge(START, "ok")
        builder.add_edge(START, "broken")
        graph = builder.compile(checkpointer=await checkpointer.get_saver())
        with pytest.raises(LookupError):
            await graph.ainvoke({"messages": [HumanMessage(content="go")]}, _config(conversation.thread_id))
        async with committed() as s:
            writes = list(
                await s.execute(
                    text("SELECT channel, conversation_id FROM checkpoint_writes WHERE thread_id = :t"),
                    {"t": conversation.thread_id},
                )
            )
        assert "__error__" in {channel for channel, _ in writes}
        assert {owner for _, owner in writes} == {conversation.id}
