"""Messages sent as content blocks (text, images, files) on the chat API:
stored and returned as sent, answered from their text, searched, titled and
previewed by their text only, and bounded in bytes with a 413."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import get_persistence_config
from tests.content_blocks import image, pdf, png, with_text
from tests.http_client import Caller


async def _history(caller: Caller, conversation: str) -> list[dict[str, Any]]:
    response = await caller.client.get(f"/api/v1/conversations/{conversation}/messages")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _post(caller: Caller, conversation: str, content: Any) -> Any:
    url = f"/api/v1/conversations/{conversation}/messages"
    return await caller.client.post(url, json={"content": content})


class TestStoredAsSent:
    async def test_blocks_come_back_intact_and_the_reply_reads_the_text(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        content = with_text("What is in <b>this</b> picture?", image(), pdf())
        response = await _post(alice, conversation, content)
        assert response.status_code == 200, response.text
        reply = response.json()
        assert reply["user_message"]["content"] == content
        assert reply["assistant_message"]["content"] == "Reply 1: you said “What is in <b>this</b> picture?”."
        assert [m["content"] for m in await _history(alice, conversation)] == [
            content,
            reply["assistant_message"]["content"],
        ]
        # The agent's state holds the message as sent, too.
        checkpoint = reply["assistant_message"]["checkpoint_id"]
        state = await alice.client.get(f"/api/v1/conversations/{conversation}/checkpoints/{checkpoint}")
        assert state.json()["messages"][0]["content"] == content

    async def test_the_run_keeps_the_blocks_once_in_its_spec(
        self, alice: Caller, engine: AsyncEngine
    ) -> None:
        conversation = await alice.conversation()
        content = with_text("queued or not, this runs", image())
        assert (await _post(alice, conversation, content)).status_code == 200
        async with engine.connect() as conn:
            run = (
                await conn.execute(
                    text("SELECT blocks, kwargs FROM thread_runs WHERE conversation_id = :c"),
                    {"c": conversation},
                )
            ).one()
        assert run.blocks is None
        assert run.kwargs["input"]["messages"][0]["content"] == content

    async def test_a_fork_copies_the_blocks(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        content = with_text("keep this", image())
        assert (await _post(alice, conversation, content)).status_code == 200
        fork = await alice.client.post(f"/api/v1/conversations/{conversation}/fork")
        assert fork.status_code == 201, fork.text
        assert (await _history(alice, fork.json()["id"]))[0]["content"] == content

    async def test_title_and_preview_come_from_the_text_or_the_file_names(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        assert (await _post(alice, conversation, with_text("Look at my cat", image()))).status_code == 200
        shown = (await alice.client.get(f"/api/v1/conversations/{conversation}")).json()
        assert shown["title"] == "Look at my cat"
        assert png() not in shown["last_message_preview"]

        wordless = await alice.conversation()
        response = await _post(alice, wordless, [image("cat.png"), pdf("report.pdf")])
        assert response.status_code == 200, response.text
        shown = (await alice.client.get(f"/api/v1/conversations/{wordless}")).json()
        assert shown["title"] == "cat.png, report.pdf"
        assert response.json()["assistant_message"]["content"] == "Reply 1: you said “”."


class TestRefused:
    async def test_what_is_not_a_content_block(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        for content in ([], [{"text": "no type"}], [1], [image(data="AAAA"), {"type": 3}]):
            response = await _post(alice, conversation, content)
            assert response.status_code == 422, (content, response.text)
        response = await _post(alice, conversation, with_text("nul", {"type": "file", "data": "a\u0000b"}))
        assert response.status_code == 422
        assert await _history(alice, conversation) == []

    async def test_a_message_over_its_size_in_bytes_is_413(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        limit = get_persistence_config().max_message_bytes
        response = await _post(alice, conversation, with_text("big", pdf(data="A" * limit)))
        assert response.status_code == 413
        assert response.json()["error"] == "MessageTooLarge"
        assert f"the limit is {limit}" in response.json()["detail"]
        assert await _history(alice, conversation) == []


class TestSearch:
    async def test_the_text_is_found_and_the_data_is_not(self, alice: Caller) -> None:
        conversation = await alice.conversation()
        data = png() + "Zm9vYmFyYmF6cXV4"
        content = with_text("a zebra crossing", image("stripes.png", data=data), pdf("quokka.pdf"))
        assert (await _post(alice, conversation, content)).status_code == 200
        # The message, the reply that repeats it, and the title it gave the conversation.
        for word, hits in (("zebra", 3), ("Zm9vYmFyYmF6cXV4", 0), ("quokka", 0), ("mimeType", 0)):
            page = await alice.client.get("/api/v1/search", params={"q": word})
            assert page.status_code == 200, page.text
            assert len(page.json()["items"]) == hits, word
