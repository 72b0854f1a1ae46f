"""Search across one's conversations, on real PostgreSQL: ranking, snippets,
prefixes and the websearch syntax, scope (another user's, deleted and
archived conversations, replies still streaming), stable pages while
messages arrive, bad input; and the history opened around a message."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.text import BIGINT_MAX
from tests.http_client import Caller


async def _search(caller: Caller, q: str, **params: Any) -> dict[str, Any]:
    response = await caller.client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _texts(page: dict[str, Any]) -> list[str]:
    """Each hit's snippet as plain text."""
    return ["".join(part["text"] for part in hit["snippet"]) for hit in page["items"]]


def _matches(page: dict[str, Any]) -> list[list[str]]:
    return [[p["text"] for p in hit["snippet"] if p["match"]] for hit in page["items"]]


class TestMatching:
    async def test_hits_are_ranked_and_highlighted(self, alice: Caller) -> None:
        conversation = await alice.conversation("Notes")
        await alice.send(conversation, "a passing mention of durable things among many other words here")
        await alice.send(conversation, "durable memory, durable threads, durable runs")
        page = await _search(alice, "durable")
        # Best first, the newer first among equals: a reply repeats the message it answers.
        assert [hit["message"]["role"] for hit in page["items"]] == ["assistant", "user", "assistant", "user"]
        assert _texts(page)[1].startswith("durable memory")
        assert _matches(page)[:2] == [["durable", "durable", "durable"]] * 2
        assert _matches(page)[2:] == [["durable"]] * 2
        ranks = [hit["rank"] for hit in page["items"]]
        assert ranks == sorted(ranks, reverse=True)
        hit = page["items"][0]
        assert hit["conversation"] == {"id": conversation, "title": "Notes"}
        assert set(hit["message"]) == {"id", "role", "created_at"}

    async def test_the_last_word_matches_as_a_prefix_while_typed(self, alice: Caller) -> None:
        conversation = await alice.conversation("Untitled")
        await alice.send(conversation, "PostgreSQL keeps everything")
        assert _matches(await _search(alice, "postg")) == [["PostgreSQL"], ["PostgreSQL"]]
        assert (await _search(alice, "keeps postg"))["items"]
        assert (await _search(alice, "postg "))["items"] == []  # a finished word is a word
        assert (await _search(alice, '"postg"'))["items"] == []

    async def test_phrases_or_and_minus(self, alice: Caller) -> None:
        conversation = await alice.conversation("Fruit")
        await alice.send(conversation, "green apples")
        await alice.send(conversation, "red apples")
        await alice.send(conversation, "green pears")
        assert len((await _search(alice, '"green apples"'))["items"]) == 2
        assert len((await _search(alice, '"apples green"'))["items"]) == 0
        assert len((await _search(alice, "apples -red"))["items"]) == 2
        assert len((await _search(alice, "pears or red"))["items"]) == 4

    async def test_snippets_are_text_whatever_the_message_holds(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        await alice.send(conversation, "<b>bold</b> \ue000 needle \ue001 & <script>x</script>")
        page = await _search(alice, "needle")
        assert _matches(page)[0] == ["needle"]
        assert all("\ue000" not in t and "\ue001" not in t for t in _texts(page))

    async def test_conversation_titles_are_searched(self, alice: Caller) -> None:
        conversation = await alice.conversation("Quarterly planning")
        hits = (await _search(alice, "quarterly"))["items"]
        assert [(h["conversation"]["id"], h["message"]) for h in hits] == [(conversation, None)]
        assert [p for p in hits[0]["snippet"] if p["match"]] == [{"text": "Quarterly", "match": True}]


class TestScope:
    async def test_only_the_callers_own_and_not_deleted_ones(self, alice: Caller, bob: Caller) -> None:
        mine = await alice.conversation("Animals")
        await alice.send(mine, "zebra crossing")
        theirs = await bob.conversation("zebra titles too")
        await bob.send(theirs, "zebra stripes")
        assert len((await _search(alice, "zebra"))["items"]) == 2
        assert (await alice.client.delete(f"/api/v1/conversations/{mine}")).status_code == 204
        assert (await _search(alice, "zebra"))["items"] == []
        assert len((await _search(bob, "zebra"))["items"]) == 3

    async def test_archived_on_request(self, alice: Caller) -> None:
        conversation = await alice.conversation("Animals")
        await alice.send(conversation, "walrus")
        archived = await alice.client.patch(f"/api/v1/conversations/{conversation}", json={"archived": True})
        assert archived.status_code == 200
        assert (await _search(alice, "walrus"))["items"] == []
        assert len((await _search(alice, "walrus", archived="true"))["items"]) == 2
        assert len((await _search(alice, "walrus", archived="all"))["items"]) == 2

    async def test_a_streaming_reply_is_found_once_complete(self, alice: Caller, engine: AsyncEngine) -> None:
        conversation = await alice.conversation()
        async with engine.begin() as connection:
            reply_id = await connection.scalar(
                text(
                    "INSERT INTO messages (conversation_id, role, content, status) "
                    "VALUES (:c, 'assistant', 'an unfinished narwhal', 'streaming') RETURNING id"
                ),
                {"c": conversation},
            )
        assert (await _search(alice, "narwhal"))["items"] == []
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE messages SET status = 'complete' WHERE id = :id"), {"id": reply_id}
            )
        assert [h["message"]["id"] for h in (await _search(alice, "narwhal"))["items"]] == [reply_id]


class TestPages:
    async def test_pages_neither_repeat_nor_skip_while_messages_arrive(self, alice: Caller) -> None:
        conversation = await alice.conversation("Rivers")
        for n in range(5):
            await alice.send(conversation, f"otter {'otter ' * n}")
        first = await _search(alice, "otter", limit=3)
        seen = [h["message"]["id"] for h in first["items"]]
        cursor = first["next_cursor"]
        while cursor is not None:
            await alice.send(
                conversation, "otter otter otter otter otter otter otter"
            )  # ranks among the first
            page = await _search(alice, "otter", limit=3, cursor=cursor)
            seen += [h["message"]["id"] for h in page["items"]]
            cursor = page["next_cursor"]
        assert len(seen) == len(set(seen))
        everything = await _search(alice, "otter", limit=50)
        arrived_later = {h["message"]["id"] for h in everything["items"]} - set(seen)
        assert len(seen) == 10
        assert all(message_id > max(seen) for message_id in arrived_later)

    async def test_bad_input(self, alice: Caller) -> None:
        for q in ["", "x" * 501, "a\x00b"]:
            response = await alice.client.get("/api/v1/search", params={"q": q})
            assert response.status_code == 422, q
            assert set(response.json()) == {"error", "detail"}
        assert (await alice.client.get("/api/v1/search")).status_code == 422
        for q in ["-", "or", '""', "   ", "- or -"]:
            if q.strip():
                assert (await _search(alice, q)) == {"items": [], "next_cursor": None}, q
        conversation = await alice.conversation("Birds")
        for _ in range(3):
            await alice.send(conversation, "heron")
        cursor = (await _search(alice, "heron", limit=2))["next_cursor"]
        tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
        for q, given in [("heron", tampered), ("heron", "garbage"), ("other", cursor)]:
            response = await alice.client.get("/api/v1/search", params={"q": q, "cursor": given})
            assert response.status_code == 422, (q, given)


class TestOpenAtAMessage:
    async def test_the_history_around_a_message_pages_both_ways(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        for n in range(10):
            await alice.send(conversation, f"message {n}")
        history = f"/api/v1/conversations/{conversation}/messages"
        everything = [
            m["id"] for m in (await alice.client.get(history, params={"limit": 100})).json()["items"]
        ]
        target = everything[9]
        page = (await alice.client.get(history, params={"around": target, "limit": 6})).json()
        assert [m["id"] for m in page["items"]] == everything[6:12]
        before = (await alice.client.get(history, params={"before": page["next_before"], "limit": 6})).json()
        after = (await alice.client.get(history, params={"after": page["next_after"], "limit": 6})).json()
        assert [m["id"] for m in before["items"]] == everything[0:6]
        assert before["next_before"] is None
        assert [m["id"] for m in after["items"]] == everything[12:18]
        assert after["next_after"] == everything[17]
        last = (await alice.client.get(history, params={"after": after["next_after"], "limit": 6})).json()
        assert [m["id"] for m in last["items"]] == everything[18:]
        assert last["next_after"] is None
        first = (await alice.client.get(history, params={"around": everything[0], "limit": 6})).json()
        assert [m["id"] for m in first["items"]] == everything[0:6]
        assert first["next_before"] is None

    async def test_around_another_conversations_message_or_with_another_cursor(
        self, alice: Caller, bob: Caller
    ) -> None:
        mine, theirs = await alice.conversation(), await bob.conversation()
        my_message = (await alice.send(mine, "hello")).json()["user_message"]["id"]
        their_message = (await bob.send(theirs, "hello")).json()["user_message"]["id"]
        history = f"/api/v1/conversations/{mine}/messages"
        assert (await alice.client.get(history, params={"around": their_message})).status_code == 404
        both = await alice.client.get(history, params={"around": 1, "before": 5})
        assert both.status_code == 422
        beyond = await alice.client.get(history, params={"after": BIGINT_MAX})
        assert beyond.json() == {"items": [], "next_before": None, "next_after": None}
        one = (await alice.client.get(history, params={"around": my_message, "limit": 1})).json()
        assert [m["id"] for m in one["items"]] == [my_message]
        assert one["next_before"] is None  # the conversation's first message: nothing older
        assert one["next_after"] == my_message  # its reply is next
