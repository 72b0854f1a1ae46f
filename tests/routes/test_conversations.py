"""Conversations over HTTP: create, list, page, rename, archive, delete, fork."""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.http_client import Caller

ROWS_OF_A_CONVERSATION = text(
    """
    SELECT (SELECT count(*) FROM messages WHERE conversation_id = :id)
         + (SELECT count(*) FROM thread_runs WHERE conversation_id = :id)
         + (SELECT count(*) FROM checkpoints WHERE thread_id = :thread)
         + (SELECT count(*) FROM checkpoint_blobs WHERE thread_id = :thread)
         + (SELECT count(*) FROM checkpoint_writes WHERE thread_id = :thread)
    """
)


async def _rows_left(engine: AsyncEngine, conversation_id: str) -> int:
    async with engine.connect() as conn:
        params = {"id": uuid.UUID(conversation_id), "thread": conversation_id}
        return int((await conn.execute(ROWS_OF_A_CONVERSATION, params)).scalar_one())


class TestCreateAndGet:
    async def test_create_with_and_without_title(self, alice: Caller) -> None:
        named = (await alice.client.post("/api/v1/conversations", json={"title": "Plans"})).json()
        untitled = (await alice.client.post("/api/v1/conversations", json={})).json()
        assert (named["title"], untitled["title"]) == ("Plans", None)
        assert named["message_count"] == 0
        fetched = (await alice.client.get(f"/api/v1/conversations/{named['id']}")).json()
        assert fetched == named

    async def test_title_comes_from_the_first_message(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        await alice.send(
            conversation, "How should I store chat history for an agent that must survive restarts?"
        )
        await alice.send(conversation, "A second message does not rename it")
        got = (await alice.client.get(f"/api/v1/conversations/{conversation}")).json()
        assert got["title"] == "How should I store chat history for an agent that…"
        assert len(got["title"]) == 50
        assert got["message_count"] == 4
        assert got["last_message_preview"] == "Reply 2: you said “A second message does not rename it”."

    async def test_unknown_and_malformed_ids(self, alice: Caller) -> None:
        missing = await alice.client.get(f"/api/v1/conversations/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert missing.json()["error"] == "ConversationNotFound"
        malformed = await alice.client.get("/api/v1/conversations/not-a-uuid")
        assert malformed.status_code == 422
        assert malformed.json()["error"] == "ValidationError"

    async def test_bodies_with_wrong_types_or_extra_fields(self, alice: Caller) -> None:
        for body in ({"title": 42}, {"title": ""}, {"title": "x" * 201}, {"titel": "typo"}, [1, 2]):
            response = await alice.client.post("/api/v1/conversations", json=body)
            assert response.status_code == 422, body
            assert set(response.json()) == {"error", "detail"}


class TestList:
    async def test_newest_activity_first_with_counts(self, alice: Caller) -> None:
        first, second = await alice.conversation("first"), await alice.conversation("second")
        await alice.send(first, "bump")
        items = (await alice.client.get("/api/v1/conversations")).json()["items"]
        assert [i["id"] for i in items[:2]] == [first, second]
        assert items[0]["message_count"] == 2

    async def test_cursor_pages_cover_everything_once(self, alice: Caller) -> None:
        created = {await alice.conversation(f"c{i}") for i in range(23)}
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
            page = (await alice.client.get("/api/v1/conversations", params=params)).json()
            assert page["total"] == 23
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 23
        assert set(seen) == created

    async def test_tampered_cursors_are_refused(self, alice: Caller) -> None:
        for _ in range(3):
            await alice.conversation()
        cursor = (await alice.client.get("/api/v1/conversations", params={"limit": 1})).json()["next_cursor"]
        tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
        for bad in (tampered, "garbage", "%%%", "A" * 500):
            response = await alice.client.get("/api/v1/conversations", params={"cursor": bad})
            assert response.status_code == 422, bad
            assert response.json()["error"] in {"InvalidCursor", "ValidationError"}

    async def test_limits_out_of_range(self, alice: Caller) -> None:
        for limit in ("0", "201", "-5", "many"):
            response = await alice.client.get("/api/v1/conversations", params={"limit": limit})
            assert response.status_code == 422, limit

    async def test_archive_hides_and_unarchive_restores(self, alice: Caller) -> None:
        kept, archived = await alice.conversation("kept"), await alice.conversation("archived")
        patched = await alice.client.patch(f"/api/v1/conversations/{archived}", json={"archived": True})
        assert patched.json()["archived"] is True

        async def ids(which: str) -> set[str]:
            page = (await alice.client.get("/api/v1/conversations", params={"archived": which})).json()
            return {item["id"] for item in page["items"]}

        assert (await ids("false"), await ids("true"), await ids("all")) == (
            {kept},
            {archived},
            {kept, archived},
        )
        await alice.client.patch(f"/api/v1/conversations/{archived}", json={"archived": False})
        assert await ids("false") == {kept, archived}
        assert (
            await alice.client.get("/api/v1/conversations", params={"archived": "maybe"})
        ).status_code == 422

    async def test_archiving_marks_checkpoints(self, alice: Caller, engine: AsyncEngine) -> None:
        conversation = await alice.conversation()
        await alice.send(conversation, "hi")
        await alice.client.patch(f"/api/v1/conversations/{conversation}", json={"archived": True})
        async with engine.connect() as conn:
            flags = set(
                (
                    await conn.execute(
                        text("SELECT archived FROM checkpoints WHERE thread_id = :t"), {"t": conversation}
                    )
                )
                .scalars()
                .all()
            )
        assert flags == {True}

    async def test_rename(self, alice: Caller) -> None:
        conversation = await alice.conversation("old")
        renamed = await alice.client.patch(f"/api/v1/conversations/{conversation}", json={"title": "new"})
        assert renamed.json()["title"] == "new"


class TestDelete:
    async def test_delete_removes_every_row_and_stays_deleted(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation = await alice.conversation()
        await alice.send(conversation, "one")
        await alice.send(conversation, "two")
        assert await _rows_left(engine, conversation) > 0

        assert (await alice.client.delete(f"/api/v1/conversations/{conversation}")).status_code == 204
        assert await _rows_left(engine, conversation) == 0
        assert (await alice.client.get(f"/api/v1/conversations/{conversation}")).status_code == 404
        assert (await alice.send(conversation, "three")).status_code == 404
        assert (await alice.client.delete(f"/api/v1/conversations/{conversation}")).status_code == 404
        assert await _rows_left(engine, conversation) == 0


class TestFork:
    async def test_whole_fork_is_independent(self, alice: Caller, engine: AsyncEngine) -> None:
        source = await alice.conversation("source")
        await alice.send(source, "shared past")
        fork = (await alice.client.post(f"/api/v1/conversations/{source}/fork", json={})).json()
        assert fork["message_count"] == 2
        assert fork["title"] == "source"

        in_fork = (await alice.send(fork["id"], "only in the fork")).json()
        in_source = (await alice.send(source, "only in the source")).json()
        # Each saw the shared turn and its own, never the other's.
        assert in_fork["assistant_message"]["content"] == "Reply 2: you said “only in the fork”."
        assert in_source["assistant_message"]["content"] == "Reply 2: you said “only in the source”."
        fork_history = (await alice.client.get(f"/api/v1/conversations/{fork['id']}/messages")).json()[
            "items"
        ]
        assert [m["content"] for m in fork_history if m["role"] == "user"] == [
            "shared past",
            "only in the fork",
        ]
        async with engine.connect() as conn:
            owners = (
                await conn.execute(
                    text("SELECT DISTINCT conversation_id, user_id FROM checkpoints WHERE thread_id = :t"),
                    {"t": fork["id"]},
                )
            ).all()
        assert [(str(c), u) for c, u in owners] == [(fork["id"], alice.id)]

    async def test_a_fork_says_where_it_came_from_and_its_answers_take_feedback(self, alice: Caller) -> None:
        source = await alice.conversation("source")
        sent = (await alice.send(source, "rate me")).json()
        await alice.client.put(f"/api/v1/runs/{sent['run_id']}/feedback", json={"sentiment": "negative"})
        fork = (await alice.client.post(f"/api/v1/conversations/{source}/fork", json={})).json()
        assert (fork["title"], fork["forked_from"]) == ("source", source)
        assert (await alice.client.get(f"/api/v1/conversations/{source}")).json()["forked_from"] is None

        history = (await alice.client.get(f"/api/v1/conversations/{fork['id']}/messages")).json()["items"]
        runs = (await alice.client.get(f"/api/v1/conversations/{fork['id']}/runs")).json()["items"]
        # The fork's answer has a run of its own, without the source's feedback.
        assert [run["prompt"] for run in runs] == ["rate me"]
        assert runs[0]["run_id"] != sent["run_id"]
        assert runs[0]["sentiment"] is None
        assert {m["run_id"] for m in history} == {runs[0]["run_id"]}
        rated = await alice.client.put(
            f"/api/v1/runs/{runs[0]['run_id']}/feedback", json={"sentiment": "positive"}
        )
        assert rated.status_code == 200
        source_runs = (await alice.client.get(f"/api/v1/conversations/{source}/runs")).json()["items"]
        assert [run["sentiment"] for run in source_runs] == ["negative"]

        # Deleting the source leaves the fork whole, no longer pointing at it.
        assert (await alice.client.delete(f"/api/v1/conversations/{source}")).status_code == 204
        kept = (await alice.client.get(f"/api/v1/conversations/{fork['id']}")).json()
        assert (kept["forked_from"], kept["message_count"]) == (None, 2)

    async def test_fork_from_a_past_checkpoint(self, alice: Caller) -> None:
        source = await alice.conversation()
        first = (await alice.send(source, "turn one")).json()
        await alice.send(source, "turn two")
        checkpoint = first["assistant_message"]["checkpoint_id"]
        fork = await alice.client.post(
            f"/api/v1/conversations/{source}/fork", json={"checkpoint_id": checkpoint}
        )
        assert fork.status_code == 201
        fork_id = fork.json()["id"]
        history = (await alice.client.get(f"/api/v1/conversations/{fork_id}/messages")).json()["items"]
        assert [m["content"] for m in history] == ["turn one", "Reply 1: you said “turn one”."]
        reply = (await alice.send(fork_id, "branching")).json()["assistant_message"]["content"]
        assert reply == "Reply 2: you said “branching”."

    async def test_fork_from_an_unknown_checkpoint(self, alice: Caller) -> None:
        source = await alice.conversation()
        response = await alice.client.post(
            f"/api/v1/conversations/{source}/fork", json={"checkpoint_id": "nope"}
        )
        assert response.status_code == 404
        assert response.json()["error"] == "CheckpointNotFound"
