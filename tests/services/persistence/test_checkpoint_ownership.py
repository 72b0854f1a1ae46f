"""Every checkpoint row LangGraph writes carries its conversation and owner."""

import uuid
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Checkpoint, CheckpointBlob, CheckpointWrite, Conversation
from app.services.persistence import MessageCheckpointer
from tests.conftest import Owner
from tests.factories import add_conversation
from tests.graphs import chat, echo_graph

CheckpointTable = type[Checkpoint] | type[CheckpointBlob] | type[CheckpointWrite]


async def _owners(
    sessions: async_sessionmaker[AsyncSession], model: CheckpointTable, thread_id: str
) -> list[tuple[Any, ...]]:
    async with sessions() as s:
        columns = [model.conversation_id] + ([model.user_id] if model is Checkpoint else [])
        rows = await s.execute(select(*columns).where(model.thread_id == thread_id))
        return [tuple(row) for row in rows]


async def _count(sessions: async_sessionmaker[AsyncSession], model: CheckpointTable, thread_id: str) -> int:
    async with sessions() as s:
        return (
            await s.scalar(select(func.count()).select_from(model).where(model.thread_id == thread_id)) or 0
        )


class TestOwnershipColumns:
    async def test_a_graph_run_writes_owned_checkpoints(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        user, conversation = await make_conversation()
        await chat(echo_graph(await checkpointer.get_saver()), conversation.thread_id, "hello")

        checkpoints = await _owners(committed, Checkpoint, conversation.thread_id)
        assert len(checkpoints) == 3
        assert set(checkpoints) == {(conversation.id, user.id)}
        for model in (CheckpointBlob, CheckpointWrite):
            rows = await _owners(committed, model, conversation.thread_id)
            assert rows, f"the run wrote no {model.__tablename__}"
            assert set(rows) == {(conversation.id,)}

    async def test_threads_that_are_not_conversations_stay_unowned(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        for thread in (f"plain-{uuid.uuid4()}", str(uuid.uuid4())):
            await chat(echo_graph(await checkpointer.get_saver()), thread, "hi")
            assert set(await _owners(committed, Checkpoint, thread)) == {(None, None)}

    async def test_rows_written_before_the_conversation_commits_are_linked_at_commit(
        self, checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        conversation_id = uuid.uuid4()
        async with committed() as s:
            user, _ = await add_conversation(s, conversation_id=conversation_id)
            # The saver's own connection cannot see the uncommitted conversation.
            await chat(echo_graph(await checkpointer.get_saver()), str(conversation_id), "early")
            assert set(await _owners(committed, Checkpoint, str(conversation_id))) == {(None, None)}
            await s.commit()
        assert set(await _owners(committed, Checkpoint, str(conversation_id))) == {(conversation_id, user.id)}
        assert set(await _owners(committed, CheckpointBlob, str(conversation_id))) == {(conversation_id,)}

    async def test_archiving_marks_the_checkpoints(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        await chat(echo_graph(await checkpointer.get_saver()), conversation.thread_id, "keep me")
        async with committed() as s:
            await s.execute(
                update(Conversation).where(Conversation.id == conversation.id).values(archived=True)
            )
            await s.commit()
            flags = set(
                await s.scalars(
                    select(Checkpoint.archived).where(Checkpoint.thread_id == conversation.thread_id)
                )
            )
        assert flags == {True}
        # Later checkpoints of an archived conversation are archived too.
        await chat(echo_graph(await checkpointer.get_saver()), conversation.thread_id, "more")
        async with committed() as s:
            flags = set(
                await s.scalars(
                    select(Checkpoint.archived).where(Checkpoint.thread_id == conversation.thread_id)
                )
            )
        assert flags == {True}


class TestCascade:
    async def test_deleting_a_conversation_deletes_its_checkpoints_blobs_and_writes(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        _, neighbour = await make_conversation()
        graph = echo_graph(await checkpointer.get_saver())
        await chat(graph, conversation.thread_id, "doomed")
        await chat(graph, neighbour.thread_id, "safe")

        async with committed() as s:
            await s.execute(delete(Conversation).where(Conversation.id == conversation.id))
            await s.commit()

        for model in (Checkpoint, CheckpointBlob, CheckpointWrite):
            assert await _count(committed, model, conversation.thread_id) == 0
        assert await _count(committed, Checkpoint, neighbour.thread_id) == 3
        assert (
            await (await checkpointer.get_saver()).aget_tuple(
                {"configurable": {"thread_id": conversation.thread_id}}
            )
            is None
        )

    async def test_a_late_write_does_not_bring_a_deleted_conversation_back(
        self,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation()
        graph = echo_graph(await checkpointer.get_saver())
        await chat(graph, conversation.thread_id, "before")
        async with committed() as s:
            await s.execute(delete(Conversation).where(Conversation.id == conversation.id))
            await s.commit()

        # A run that was still going writes after the delete.
        await chat(graph, conversation.thread_id, "too late")

        for model in (Checkpoint, CheckpointBlob, CheckpointWrite):
            assert await _count(committed, model, conversation.thread_id) == 0
