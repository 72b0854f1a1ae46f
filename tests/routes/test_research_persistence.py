"""The research agent's thread shapes on real PostgreSQL, through the app: a
subgraph namespace, tool steps and a pending interrupt are owned, deleted,
forked, swept, copied, deleted by run and exported like any checkpoint."""

import uuid
from typing import Any

from langchain_core.messages import AIMessage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.agents.graph_agent import NOT_RUN
from app.services.conversations.export import export_conversation
from tests.http_client import Caller
from tests.research_client import APPROVE, ASK, history, research_conversation, runs, shape

_ROWS = """
SELECT 'checkpoints' AS kind, checkpoint_ns, conversation_id, NULL AS channel
FROM checkpoints WHERE thread_id = :t
UNION ALL SELECT 'writes', checkpoint_ns, conversation_id, channel FROM checkpoint_writes WHERE thread_id = :t
UNION ALL SELECT 'blobs', checkpoint_ns, conversation_id, channel FROM checkpoint_blobs WHERE thread_id = :t
"""


async def _rows(engine: AsyncEngine, thread: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text(_ROWS), {"t": thread}))


def _namespaces(rows: list[Any]) -> set[str]:
    return {row.checkpoint_ns.split(":")[0] for row in rows if row.kind == "checkpoints"}


async def _waiting(alice: Caller) -> tuple[str, list[dict[str, Any]]]:
    conversation = await research_conversation(alice.client)
    response = await alice.send(conversation, ASK)
    assert response.json()["status"] == "interrupted"
    return conversation, await history(alice.client, conversation)


async def _approve(alice: Caller, conversation: str) -> dict[str, Any]:
    url = f"/api/v1/conversations/{conversation}/messages"
    response = await alice.client.post(url, json={"resume": APPROVE})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    return dict(response.json()["assistant_message"])


class TestOwnership:
    async def test_every_namespace_and_the_interrupt_are_owned_and_deleted(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation, _ = await _waiting(alice)
        rows = await _rows(engine, conversation)
        assert _namespaces(rows) == {"", "summarise"}
        assert {str(row.conversation_id) for row in rows} == {conversation}
        assert any(row.kind == "writes" and row.channel == "__interrupt__" for row in rows)
        assert (await alice.client.delete(f"/api/v1/conversations/{conversation}")).status_code == 204
        assert await _rows(engine, conversation) == []


async def _state(alice: Caller, conversation: str, checkpoint_id: str) -> dict[str, Any]:
    url = f"/api/v1/conversations/{conversation}/checkpoints/{checkpoint_id}"
    return dict((await alice.client.get(url)).json())


class TestForks:
    async def test_a_fork_after_a_tool_call_carries_on_from_the_call(self, alice: Caller) -> None:
        source, messages = await _waiting(alice)
        call = messages[1]
        url = f"/api/v1/conversations/{source}/fork"
        fork = (await alice.client.post(url, json={"checkpoint_id": call["checkpoint_id"]})).json()
        assert shape(await history(alice.client, fork["id"])) == shape(messages[:2])
        # A new message starts from the call, not from the tool that ran in the
        # source: the call is answered "not run", in the history and the state.
        reply = (await alice.send(fork["id"], "never mind, hello")).json()
        assert reply["assistant_message"]["content"] == "Reply 2: you said “never mind, hello”."
        after = await history(alice.client, fork["id"])
        assert shape(after)[2:] == [
            ("tool", "search_conversations error"),
            ("user", "never mind, hello"),
            ("assistant", "Reply 2: you said “never mind, hello”."),
        ]
        assert after[2]["metadata"]["tool_call_id"] == call["metadata"]["tool_calls"][0]["id"]
        state = await _state(alice, fork["id"], reply["assistant_message"]["checkpoint_id"])
        assert [m["role"] for m in state["messages"]] == ["user", "assistant", "tool", "user", "assistant"]
        assert state["messages"][2]["content"] == NOT_RUN

    async def test_a_message_past_an_unanswered_call_answers_it_not_run(self, alice: Caller) -> None:
        conversation = await research_conversation(alice.client)
        await alice.send(conversation, "hello")
        # As a process that died between a tool call and its tool leaves the thread.
        agent = alice.app.state.chat_runner.agents["research"]
        dangling = AIMessage(
            "", tool_calls=[{"name": "search_conversations", "args": {"query": "x"}, "id": "c1"}]
        )
        await agent.graph.aupdate_state(agent.config(conversation), {"messages": [dangling]}, as_node="agent")
        reply = (await alice.send(conversation, "and now?")).json()
        after = await history(alice.client, conversation)
        assert shape(after)[-3:] == [
            ("tool", "search_conversations error"),
            ("user", "and now?"),
            ("assistant", "Reply 2: you said “and now?”."),
        ]
        assert (after[-3]["content"], after[-3]["metadata"]["tool_call_id"]) == (NOT_RUN, "c1")
        assert after[-3]["checkpoint_id"] == after[-2]["checkpoint_id"] is not None
        state = await _state(alice, conversation, reply["assistant_message"]["checkpoint_id"])
        assert [m["role"] for m in state["messages"]][-4:] == ["assistant", "tool", "user", "assistant"]

    async def test_a_fork_at_the_interrupt_resumes_and_the_source_still_waits(self, alice: Caller) -> None:
        source, messages = await _waiting(alice)
        asked = messages[-1]
        fork = (
            await alice.client.post(
                f"/api/v1/conversations/{source}/fork", json={"checkpoint_id": asked["checkpoint_id"]}
            )
        ).json()
        copied = await history(alice.client, fork["id"])
        assert shape(copied) == shape(messages)
        assert copied[-1]["metadata"]["pending"] is True
        answer = await _approve(alice, fork["id"])
        assert "Saved note " in answer["content"]
        assert (await alice.send(source, "still there?")).json()["error"] == "InterruptPending"


class TestRetention:
    async def test_a_sweep_to_one_checkpoint_keeps_the_interrupt_resumable(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation, _ = await _waiting(alice)
        before = [row for row in await _rows(engine, conversation) if row.kind == "checkpoints"]
        # As the app's sweeper does, with the app's snapshots of each assistant's state.
        await alice.app.state.checkpointer.enforce_max_history(keep=1)
        after = [row for row in await _rows(engine, conversation) if row.kind == "checkpoints"]
        assert len(after) < len(before)
        answer = await _approve(alice, conversation)
        assert "Saved note " in answer["content"]


class TestRunsAndCopies:
    async def test_delete_for_runs_takes_the_runs_checkpoints_in_every_namespace(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation, _ = await _waiting(alice)
        await _approve(alice, conversation)
        first, _ = await runs(alice.client, conversation)
        saved = (
            """SELECT checkpoint_ns FROM checkpoints WHERE thread_id = :t AND metadata ->> 'run_id' = :r"""
        )
        async with engine.connect() as conn:
            namespaces = {
                ns.split(":")[0]
                for ns in await conn.scalars(text(saved), {"t": conversation, "r": first["run_id"]})
            }
        assert namespaces == {"", "summarise"}
        saver = await alice.app.state.checkpointer.get_saver()
        await saver.adelete_for_runs([first["run_id"]])
        async with engine.connect() as conn:
            assert list(await conn.scalars(text(saved), {"t": conversation, "r": first["run_id"]})) == []

    async def test_a_copy_and_an_export_hold_every_namespace(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation, _ = await _waiting(alice)
        target = await alice.conversation()
        saver = await alice.app.state.checkpointer.get_saver()
        await saver.acopy_thread(conversation, target)
        source_rows, copied_rows = await _rows(engine, conversation), await _rows(engine, target)
        assert _namespaces(copied_rows) == _namespaces(source_rows) == {"", "summarise"}
        assert len(copied_rows) == len(source_rows)
        async with async_sessionmaker(engine)() as session:
            exported = await export_conversation(session, uuid.UUID(conversation))
        namespaces = exported["checkpoint_namespaces"]
        assert {ns.split(":")[0] for ns in namespaces} == {"", "summarise"}
        assert exported["checkpoints"] == sum(namespaces.values())
        assert [m["role"] for m in exported["messages"]][-1] == "interrupt"
