"""`surfsense-db`, run as operators run it: the installed console script."""

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents import compile_assistants
from app.agents.local_model import LocalChatModel
from app.config import PersistenceConfig, Settings, StoreSettings, psycopg_conninfo
from app.db import create_engine
from app.db.migrate import upgrade_to_head
from app.models import Checkpoint, User
from app.services.persistence import ConversationStorage, MessageCheckpointer
from app.services.persistence.pool import build_pool
from app.services.store import AppStore
from tests.conftest import Owner
from tests.database import drop_database, recreate_database, scratch_name
from tests.factories import new_user
from tests.graphs import chat, echo_graph, reply_to
from tests.openai_compatible import OpenAICompatible, embedding

CLI = str(Path(sys.executable).parent / "surfsense-db")


async def surfsense_db(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    # One connection attempt: the retry budget is tested elsewhere.
    given = {**os.environ, "DATABASE_URL": database_url, "PERSISTENCE_RETRY_ATTEMPTS": "1", **(env or {})}
    process = await asyncio.create_subprocess_exec(
        CLI,
        *args,
        env=given,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def _latest(sessions: async_sessionmaker[AsyncSession], thread: str) -> str:
    async with sessions() as s:
        latest = await s.scalar(
            select(func.max(Checkpoint.checkpoint_id)).where(Checkpoint.thread_id == thread)
        )
    assert latest is not None
    return str(latest)


async def _checkpoints(sessions: async_sessionmaker[AsyncSession], thread: str) -> int:
    async with sessions() as s:
        return int(
            await s.scalar(select(func.count()).select_from(Checkpoint).where(Checkpoint.thread_id == thread))
            or 0
        )


class TestInspect:
    async def test_stats(self, database_url: str, make_conversation: Owner) -> None:
        await make_conversation()
        code, out, _ = await surfsense_db(database_url, "stats")
        assert code == 0
        for table in ("conversations", "messages", "checkpoints", "checkpoint_blobs", "checkpoint_writes"):
            assert table in out
        assert "largest conversations" in out

    async def test_export(
        self,
        database_url: str,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        _, conversation = await make_conversation("exported")
        async with committed() as s:
            storage = ConversationStorage(s)
            await storage.save_message(conversation.id, {"role": "user", "content": "keep this"})
            await storage.save_message(conversation.id, {"role": "assistant", "content": "kept"})
            await s.commit()
        code, out, _ = await surfsense_db(database_url, "export", str(conversation.id))
        assert code == 0
        exported = json.loads(out)
        assert exported["conversation"]["title"] == "exported"
        assert [m["content"] for m in exported["messages"]] == ["keep this", "kept"]
        assert exported["runs"] == []
        assert exported["memories"] == []

    async def test_export_includes_the_users_memories_and_no_one_elses(
        self,
        database_url: str,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        user, conversation = await make_conversation()
        other, _ = await make_conversation()
        rows = [
            (f"{user.id}.memories", "teal", '{"text": "my favourite colour is teal"}', 60),
            (f"{user.id}.notes.work", "n1", '{"fact": "standup at nine"}', None),
            (f"{user.id}.memories", "gone", '{"text": "expired"}', -1),
            (f"{other.id}.memories", "theirs", '{"text": "not yours"}', None),
        ]
        async with committed() as s:
            for prefix, key, value, minutes in rows:
                await s.execute(
                    text(
                        "INSERT INTO store (prefix, key, value, expires_at)"
                        " VALUES (:prefix, :key, CAST(:value AS jsonb),"
                        " now() + make_interval(mins => :minutes))"
                    ),
                    {"prefix": prefix, "key": key, "value": value, "minutes": minutes},
                )
            await s.commit()
        code, out, _ = await surfsense_db(database_url, "export", str(conversation.id))
        assert code == 0
        memories = json.loads(out)["memories"]
        assert sorted((m["namespace"], m["key"], m["value"]) for m in memories) == [
            (["memories"], "teal", {"text": "my favourite colour is teal"}),
            (["notes", "work"], "n1", {"fact": "standup at nine"}),
        ]
        expiring = next(m for m in memories if m["key"] == "teal")
        assert expiring["expires_at"] is not None
        assert expiring["updated_at"] is not None


class TestPrune:
    async def test_dry_run_shows_and_apply_deletes(
        self,
        database_url: str,
        checkpointer: MessageCheckpointer,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        thread = f"cli-{uuid.uuid4()}"
        graph = echo_graph(await checkpointer.get_saver())
        for turn in range(4):
            await chat(graph, thread, f"t{turn}")

        for dry_run in (("--keep", "3"), ("--keep", "3", "--dry-run")):
            code, out, _ = await surfsense_db(database_url, "prune", *dry_run)
            assert code == 0
            assert "would delete" in out
        assert await _checkpoints(committed, thread) == 12

        code, out, _ = await surfsense_db(database_url, "prune", "--keep", "3", "--apply")
        assert code == 0
        assert out.startswith("deleted ")
        assert await _checkpoints(committed, thread) == 3

    async def test_chat_threads_end_as_the_sweeper_leaves_them(
        self,
        database_url: str,
        checkpointer: MessageCheckpointer,
        make_conversation: Owner,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        """The CLI prunes DeltaChannel chat threads with the graph's snapshots,
        as the app's sweeper does: exactly the kept checkpoints, the same state."""
        agent = (await compile_assistants(await checkpointer.get_saver(), LocalChatModel()))["chat"]
        checkpointer.rebase = agent.values_at

        threads = []
        for _ in range(2):
            _, conversation = await make_conversation()
            for turn in range(5):
                await reply_to(agent.graph, conversation.thread_id, f"question {turn}")
            threads.append(conversation.thread_id)
        assert [await _checkpoints(committed, t) for t in threads] == [15, 15]
        before = [await agent.state_at(t, (await _latest(committed, t))) for t in threads]

        code, out, err = await surfsense_db(database_url, "prune", "--keep", "2", "--apply")
        assert code == 0, err
        assert out.startswith("deleted ")  # other tests may have threads here too
        await checkpointer.enforce_max_history(keep=2)  # the sweeper's path: nothing more to do
        assert [await _checkpoints(committed, t) for t in threads] == [2, 2]
        after = [await agent.state_at(t, (await _latest(committed, t))) for t in threads]
        assert after == before
        reply = await reply_to(agent.graph, threads[0], "after pruning")
        assert reply.text == "Reply 6: you said “after pruning”."

    async def test_a_thread_it_cannot_read_is_named_and_the_others_are_pruned(
        self,
        database_url: str,
        checkpointer: MessageCheckpointer,
        committed: async_sessionmaker[AsyncSession],
    ) -> None:
        graph = echo_graph(await checkpointer.get_saver())
        threads = [f"cli-unreadable-{n}-{uuid.uuid4()}" for n in range(3)]
        for thread in threads:
            for turn in range(4):
                await chat(graph, thread, f"t{turn}")
        broken = threads[1]
        async with committed() as s:
            # Channel versions that are not an object: a row no LangGraph writes.
            await s.execute(
                text(
                    "UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, '{channel_versions}', '[1]')"
                    " WHERE thread_id = :t"
                ),
                {"t": broken},
            )
            await s.commit()
        try:
            code, out, err = await surfsense_db(database_url, "prune", "--keep", "3", "--apply")
            assert code == 1, err
            assert out.startswith("deleted ")
            assert f"thread {broken}: cannot call jsonb_each_text on a non-object" in err
            assert [await _checkpoints(committed, t) for t in threads] == [3, 12, 3]
        finally:
            await (await checkpointer.get_saver()).adelete_thread(broken)

    async def test_conflicting_options(self, database_url: str) -> None:
        code, _, err = await surfsense_db(database_url, "prune", "--keep", "3", "--older-than", "2")
        assert (code, err.strip()) == (1, "error: give --keep or --older-than, not both")


class TestDeleteUser:
    async def test_erases_the_user_and_everything_of_theirs(
        self, database_url: str, make_conversation: Owner, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        user, _ = await make_conversation()
        await make_conversation()
        code, out, _ = await surfsense_db(database_url, "delete-user", str(user.id), "--yes")
        assert code == 0
        assert "1 conversation(s)" in out
        async with committed() as s:
            assert await s.get(User, user.id) is None
        code, _, err = await surfsense_db(database_url, "delete-user", str(user.id), "--yes")
        assert (code, err.strip()) == (1, f"error: User {user.id} was not found.")

    async def test_by_email_as_typed(
        self, database_url: str, make_conversation: Owner, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        user, _ = await make_conversation()
        code, out, err = await surfsense_db(database_url, "delete-user", user.email.upper(), "--yes")
        assert code == 0, err
        assert f"deleted user {user.id} and 1 conversation(s)" in out
        async with committed() as s:
            assert await s.get(User, user.id) is None
        code, _, err = await surfsense_db(database_url, "delete-user", "nobody@example.com", "--yes")
        assert (code, err.strip()) == (1, "error: User nobody@example.com was not found.")


class TestErrors:
    async def test_bad_ids_are_one_line(self, database_url: str) -> None:
        for args in (("export", "not-a-uuid"), ("delete-user", "42", "--yes")):
            code, out, err = await surfsense_db(database_url, *args)
            assert code == 1
            assert out == ""
            assert len(err.strip().splitlines()) == 1
            assert "is not a" in err
        code, _, err = await surfsense_db(database_url, "export", str(uuid.uuid4()))
        assert (code, err.startswith("error: Conversation")) == (1, True)

    async def test_unreachable_database_is_exit_3(self) -> None:
        for command in (("stats",), ("prune",), ("export", str(uuid.uuid4()))):
            code, _, err = await surfsense_db("postgresql+asyncpg://postgres@127.0.0.1:1/none", *command)
            assert code == 3, command
            assert len(err.strip().splitlines()) == 1, err
            assert err.startswith("error: ")


class TestSearchReindex:
    async def test_another_language_stems_every_message_and_title(
        self, database_url: str, make_conversation: Owner, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        """`simple` keeps words as typed; `english` stems them: after the
        reindex "running" matches a message that said "runs"."""
        _, conversation = await make_conversation("Runners")
        async with committed() as s:
            storage = ConversationStorage(s)
            for n in range(7):
                await storage.save_message(conversation.id, {"role": "user", "content": f"she runs {n}"})
            await s.commit()
        stemmed = text(
            "SELECT count(*) FROM messages WHERE conversation_id = :c"
            " AND search_vector @@ to_tsquery('english', 'running')"
        )
        title = text(
            "SELECT title_vector @@ to_tsquery('english', 'runner') FROM conversations WHERE id = :c"
        )
        async with committed() as s:
            assert await s.scalar(stemmed, {"c": conversation.id}) == 0
            assert await s.scalar(title, {"c": conversation.id}) is False
        try:
            code, out, err = await surfsense_db(
                database_url, "search-reindex", "--language", "english", "--batch", "3"
            )
            assert code == 0, err
            assert "search indexed in english:" in out
            assert "indexing in english" in err  # the progress bar
            async with committed() as s:
                assert await s.scalar(stemmed, {"c": conversation.id}) == 7
                assert await s.scalar(title, {"c": conversation.id}) is True
        finally:
            code, _, err = await surfsense_db(database_url, "search-reindex", "--language", "simple")
            assert code == 0, err

    async def test_an_unknown_language_is_refused(self, database_url: str) -> None:
        code, _, err = await surfsense_db(database_url, "search-reindex", "--language", "klingon")
        assert code == 1
        assert "No text search configuration 'klingon'" in err


@pytest.fixture
async def store_database(test_server_url: str) -> AsyncIterator[str]:
    """A database of its own: the reindex retypes its vector column."""
    url = await recreate_database(test_server_url, scratch_name("store-reindex"))
    await asyncio.to_thread(upgrade_to_head, url)
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(url)) as conn:
        row = await (await conn.execute("SELECT to_regclass('store_vectors') IS NOT NULL")).fetchone()
    try:
        if not (row and row[0]):
            pytest.skip("the server has no pgvector: the store keeps no vectors to embed again")
        yield url
    finally:
        await drop_database(test_server_url, scratch_name("store-reindex"))


def _named(server: OpenAICompatible, dims: int) -> dict[str, str]:
    options = {"base_url": server.base_url, "api_key": "test", "check_embedding_ctx_length": "false"}
    return {
        "STORE_EMBEDDINGS": "openai:text-embedding-3-small",
        "STORE_EMBEDDINGS_DIMS": str(dims),
        "STORE_EMBEDDINGS_OPTIONS": json.dumps(options).replace('"false"', "false"),
    }


async def _vectors(url: str) -> dict[tuple[str, str], list[float] | None]:
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(url)) as conn:
        rows = await (
            await conn.execute("SELECT key, field_name, embedding::text FROM store_vectors")
        ).fetchall()
    return {(k, f): json.loads(e) if e is not None else None for k, f, e in rows}


class TestStoreReindex:
    async def test_another_model_and_size_embeds_every_item_again(self, store_database: str) -> None:
        engine = create_engine(store_database, Settings(database_url=store_database))
        try:
            async with AsyncSession(engine, expire_on_commit=False) as s:
                user = new_user()
                s.add(user)
                await s.commit()
        finally:
            await engine.dispose()
        pool = build_pool(psycopg_conninfo(store_database), PersistenceConfig())
        await pool.open()
        store = AppStore(pool, StoreSettings())
        await store.open()
        try:
            mine = store.for_user(user.id)
            for n, text_ in enumerate(["apples and pears", "sailing the sea", "green apples", "rain"]):
                await mine.aput(("notes",), f"k{n}", {"text": text_, "n": n}, index=["text"])
            await mine.aput(("notes",), "tags", {"tags": ["red apples", "blue boat"]}, index=["tags[*]"])
            await mine.aput(("notes",), "secret", {"text": "apples"}, index=False)
        finally:
            await store.close()
        async with OpenAICompatible(embedding_dims=8).serving() as model:
            code, out, err = await surfsense_db(
                store_database, "store-reindex", "--batch", "2", env=_named(model, 8)
            )
            assert code == 0, err
            assert "256 to 8 dimensions" in err
            assert "embedding" in err  # the progress bar
            assert "openai:text-embedding-3-small (8 dimensions): 5 item(s)" in out
            vectors = await _vectors(store_database)
            expected = {
                (f"k{n}", "text"): t
                for n, t in enumerate(["apples and pears", "sailing the sea", "green apples", "rain"])
            }
            expected |= {("tags", "tags[*].0"): "red apples", ("tags", "tags[*].1"): "blue boat"}
            assert set(vectors) == set(expected)  # the unindexed item still has none
            for name, text_ in expected.items():
                assert vectors[name] == pytest.approx(embedding(text_, 8), abs=1e-6)
            named = StoreSettings(
                embeddings="openai:text-embedding-3-small",
                embeddings_dims=8,
                embeddings_options={
                    "base_url": model.base_url,
                    "api_key": "t",
                    "check_embedding_ctx_length": False,
                },
            )
            store = AppStore(pool, named)
            await store.open()  # the column has the model's size now
            try:
                found = await store.for_user(user.id).asearch(("notes",), query="apples", limit=10)
                # Ranked by the new vectors; the item put with index=False has none.
                assert {item.key for item in found} == {"k0", "k1", "k2", "k3", "tags"}
                assert all(item.score is not None for item in found)
            finally:
                await store.close()
                await pool.close()
        async with await psycopg.AsyncConnection.connect(psycopg_conninfo(store_database)) as conn:
            index = await (await conn.execute("SELECT to_regclass('store_vectors_embedding_idx')")).fetchone()
        assert index is not None
        assert index[0] is not None

    async def test_a_model_of_another_size_than_configured_changes_nothing(self, store_database: str) -> None:
        async with OpenAICompatible(embedding_dims=5).serving() as model:
            code, _, err = await surfsense_db(store_database, "store-reindex", env=_named(model, 8))
        assert code == 1
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            "error: the embedding model makes 5-dimension vectors, not the 8 configured "
            "(STORE_EMBEDDINGS_DIMS, or store.index.dims in langgraph.json)"
        )
        async with await psycopg.AsyncConnection.connect(psycopg_conninfo(store_database)) as conn:
            dims = await (
                await conn.execute(
                    "SELECT atttypmod FROM pg_attribute"
                    " WHERE attrelid = 'store_vectors'::regclass AND attname = 'embedding'"
                )
            ).fetchone()
        assert dims == (256,)

    async def test_without_a_model_it_is_refused(self, database_url: str) -> None:
        code, _, err = await surfsense_db(database_url, "store-reindex", env={"STORE_EMBEDDINGS": "none"})
        assert code == 1
        assert err.strip() == "error: STORE_EMBEDDINGS=none: there is no model to embed with"

    async def test_without_pgvector_it_is_refused(self, test_server_url: str) -> None:
        name = scratch_name("store-reindex-plain")
        url = await recreate_database(test_server_url, name)
        try:
            await asyncio.to_thread(upgrade_to_head, url)
            async with await psycopg.AsyncConnection.connect(psycopg_conninfo(url)) as conn:
                row = await (await conn.execute("SELECT to_regclass('store_vectors') IS NULL")).fetchone()
            if not (row and row[0]):
                pytest.skip("the server has pgvector: the refusal is for servers without it")
            code, _, err = await surfsense_db(url, "store-reindex")
            assert code == 1
            assert err.strip().splitlines()[-1] == (
                "error: the database has no pgvector: the store keeps no vectors"
            )
        finally:
            await drop_database(test_server_url, name)


async def _load_handbook(database_url: str, file: Path, *flags: str) -> tuple[int, str, str]:
    """`surfsense-db store-load [flags] handbook.staff FILE`, the app sharing `handbook`."""
    return await surfsense_db(
        database_url,
        "store-load",
        *flags,
        "handbook.staff",
        str(file),
        env={"STORE_SHARED_NAMESPACES": "handbook"},
    )


class TestStoreLoad:
    @pytest.fixture
    async def store(self, checkpointer: MessageCheckpointer) -> AsyncIterator[AppStore]:
        """The app's store as the app sharing `handbook` opens it; the app's rows deleted after."""
        assert checkpointer.pool is not None
        store = AppStore(checkpointer.pool, StoreSettings(shared_namespaces="handbook"))
        await store.open()
        yield store
        async with store.pool.connection() as conn:
            await conn.execute("DELETE FROM store WHERE user_id IS NULL")
        await store.close()

    async def _app_rows(self, store: AppStore) -> list[tuple[str, str]]:
        async with store.pool.connection() as conn:
            rows = await (
                await conn.execute("SELECT prefix, key FROM store WHERE user_id IS NULL ORDER BY 1, 2")
            ).fetchall()
        return [(row["prefix"], row["key"]) for row in rows]

    async def test_its_items_are_embedded_and_every_user_reads_them(
        self, database_url: str, store: AppStore, committed: async_sessionmaker[AsyncSession], tmp_path: Path
    ) -> None:
        lines = [
            {"key": "leave", "value": {"text": "Staff get 25 days of paid holiday a year"}},
            {"key": "bikes", "value": {"text": "Bicycles are parked in the basement garage"}},
        ]
        file = tmp_path / "handbook.jsonl"
        file.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
        code, out, err = await _load_handbook(database_url, file)
        assert code == 0, err
        assert out.strip() == "store loaded 2 item(s) into the app's namespace handbook.staff"
        # Loaded again with one line gone, --replace deletes its item.
        file.write_text(json.dumps(lines[0]) + "\n")
        code, out, err = await _load_handbook(database_url, file, "--replace")
        assert code == 0, err
        assert out.splitlines() == [
            "store loaded 1 item(s) into the app's namespace handbook.staff",
            "deleted 1 item(s) the file does not hold",
        ]
        assert await self._app_rows(store) == [("app.handbook.staff", "leave")]
        file.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
        code, _, err = await _load_handbook(database_url, file)
        assert code == 0, err

        async with committed() as s:
            user = new_user()
            s.add(user)
            await s.commit()
        found = await store.for_user(user.id).asearch(("handbook",), query="vacation days for employees")
        assert {(i.namespace, i.key) for i in found} == {
            (("handbook", "staff"), "leave"),
            (("handbook", "staff"), "bikes"),
        }
        if store.embeddings is not None:
            assert found[0].key == "leave"
            async with store.pool.connection() as conn:
                row = await (
                    await conn.execute(
                        "SELECT count(*) AS n FROM store_vectors WHERE prefix = 'app.handbook.staff'"
                    )
                ).fetchone()
            assert row == {"n": 2}

    @pytest.mark.parametrize(
        "case",
        [
            (
                "notes",
                '{"key": "k", "value": {}}\n',
                "error: The namespace ['notes'] is not one of the app's: "
                "its first label must be in STORE_SHARED_NAMESPACES (now: handbook).",
            ),
            ("handbook", '{"key": "k", "value": {}}\nnot json\n', "FILE:2: not JSON"),
            (
                "handbook",
                '{"key": "ok", "value": {}}\n{"key": "k", "value": []}\n',
                "A value must be a JSON object",
            ),
        ],
    )
    async def test_a_bad_namespace_or_line_is_one_error_and_nothing_is_stored(
        self, database_url: str, store: AppStore, tmp_path: Path, case: tuple[str, str, str]
    ) -> None:
        namespace, content, error = case
        file = tmp_path / "items.jsonl"
        file.write_text(content)
        code, out, err = await surfsense_db(
            database_url, "store-load", namespace, str(file), env={"STORE_SHARED_NAMESPACES": "handbook"}
        )
        assert code == 1
        assert out == ""
        assert error.replace("FILE", str(file)) in err.strip().splitlines()[-1]
        assert await self._app_rows(store) == []
