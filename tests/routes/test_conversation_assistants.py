"""A conversation of the chat API with one of its user's assistants: made
with it, each turn run with its configuration through the run engine the
Agent Server's runs take, and what a deleted or moved assistant leaves."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.agents.local_model import LocalChatModel
from app.models import Conversation
from tests.conditions import until, waiting_behind
from tests.http_client import AppFactory, Caller, asgi_client

PROJECT = Path(__file__).parents[1] / "langgraph_api" / "assistants_project" / "langgraph.json"


@pytest.fixture
async def app(app_factory: AppFactory) -> FastAPI:
    """The app make_caller registers on: the test project's graphs beside the chat one."""
    return await app_factory(LocalChatModel(), PROJECT)


@pytest.fixture
async def me(make_caller: Callable[[], Awaitable[Caller]]) -> Caller:
    return await make_caller()


@pytest.fixture
async def someone(make_caller: Callable[[], Awaitable[Caller]]) -> Caller:
    return await make_caller()


async def made(caller: Caller, graph_id: str, **given: Any) -> str:
    """An assistant the caller makes on the Agent Server API; its id."""
    async with asgi_client(
        caller.app, base_url="http://test/langgraph", headers=dict(caller.client.headers)
    ) as agent_server:
        response = await agent_server.post("/assistants", json={"graph_id": graph_id, **given})
    assert response.status_code == 200, response.text
    return str(response.json()["assistant_id"])


async def change(caller: Caller, method: str, assistant_id: str, **given: Any) -> httpx.Response:
    async with asgi_client(
        caller.app, base_url="http://test/langgraph", headers=dict(caller.client.headers)
    ) as agent_server:
        return await agent_server.request(method, f"/assistants/{assistant_id}", json=given or None)


async def conversation_with(caller: Caller, assistant_id: str) -> dict[str, Any]:
    response = await caller.client.post("/api/v1/conversations", json={"assistant_id": assistant_id})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def reply(caller: Caller, conversation_id: str, **message: Any) -> str:
    response = await caller.client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"content": "hi", **message}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["assistant_message"]["content"])


class TestAConversationKeepsTheUsersAssistant:
    async def test_its_turns_run_with_the_assistant_s_context_under_the_message_s(self, me: Caller) -> None:
        aid = await made(me, "persona", context={"voice": "Ada", "excitement": 1})
        conversation = await conversation_with(me, aid)
        assert (conversation["assistant_id"], conversation["stored_assistant_id"]) == ("persona", aid)
        cid = conversation["id"]
        assert await reply(me, cid) == "Ada says hello!"
        # The message's context over the assistant's, key by key, as on the Agent Server.
        assert await reply(me, cid, context={"voice": "Bo"}) == "Bo says hello!"
        # An update is what the next turn runs.
        assert (await change(me, "PATCH", aid, context={"voice": "Cy"})).status_code == 200
        assert await reply(me, cid) == "Cy says hello"
        shown = (await me.client.get(f"/api/v1/conversations/{cid}")).json()
        assert shown["stored_assistant_id"] == aid

    async def test_its_config_makes_the_graph_and_the_run_names_it(self, me: Caller) -> None:
        tools = await conversation_with(
            me, await made(me, "tools", config={"configurable": {"tools": ["fetch", "sum"]}})
        )
        response = await me.send(tools["id"], "go")
        assert response.status_code == 200, response.text
        history = (await me.client.get(f"/api/v1/conversations/{tools['id']}/messages")).json()["items"]
        assert [m["content"] for m in history if m["role"] == "assistant"] == ["used fetch", "used sum"]
        # The run's configurable names the assistant the run is of, as an Agent Server run's does.
        aid = await made(me, "whoami")
        told = await reply(me, (await conversation_with(me, aid))["id"])
        assert f"user={me.id}" in told
        assert f"assistant={aid} graph=whoami" in told

    async def test_a_fork_keeps_it(self, me: Caller) -> None:
        aid = await made(me, "persona", context={"voice": "Ada"})
        cid = (await conversation_with(me, aid))["id"]
        await reply(me, cid)
        fork = await me.client.post(f"/api/v1/conversations/{cid}/fork", json={})
        assert fork.status_code == 201, fork.text
        assert fork.json()["stored_assistant_id"] == aid
        assert await reply(me, fork.json()["id"]) == "Ada says hello"

    async def test_the_assistants_listed_are_the_graphs_and_the_caller_s_own(
        self, me: Caller, someone: Caller
    ) -> None:
        mine = await made(me, "persona", context={"voice": "Ada"}, name="Ada")
        theirs = await made(someone, "persona", context={"voice": "Eve"}, name="Eve")
        listed = (await me.client.get("/api/v1/assistants")).json()["items"]
        graphs = [a for a in listed if not a["stored"]]
        assert {a["id"] for a in graphs} >= {"chat", "persona", "whoami"}
        assert all(a["graph_id"] == a["id"] for a in graphs)
        own = [a for a in listed if a["stored"]]
        assert [(a["id"], a["name"], a["graph_id"]) for a in own] == [(mine, "Ada", "persona")]
        assert theirs not in {a["id"] for a in listed}


class TestChangingAConversationsAssistant:
    async def test_its_next_turns_run_with_the_one_chosen_or_with_its_graph(self, me: Caller) -> None:
        cid = (await conversation_with(me, "whoami"))["id"]
        assert "assistant=whoami graph=whoami" in await reply(me, cid)
        aid = await made(me, "whoami")
        chosen = await me.client.patch(f"/api/v1/conversations/{cid}", json={"assistant_id": aid})
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["stored_assistant_id"] == aid
        assert f"assistant={aid} graph=whoami" in await reply(me, cid)
        # Its graph's own id: the graph as it is again.
        cleared = await me.client.patch(f"/api/v1/conversations/{cid}", json={"assistant_id": "whoami"})
        assert cleared.json()["stored_assistant_id"] is None
        assert "assistant=whoami graph=whoami" in await reply(me, cid)

    async def test_another_graph_s_is_409_and_another_user_s_404_changing_nothing(
        self, me: Caller, someone: Caller
    ) -> None:
        aid = await made(me, "whoami")
        cid = (await conversation_with(me, aid))["id"]
        for assistant_id, status, named in (
            (await made(me, "persona", context={"voice": "Ada"}), 409, "persona graph"),
            ("chat", 409, "chat graph"),
            (await made(someone, "whoami"), 404, "was not found"),
        ):
            response = await me.client.patch(
                f"/api/v1/conversations/{cid}", json={"assistant_id": assistant_id, "title": "changed"}
            )
            assert response.status_code == status, response.text
            assert named in response.json()["detail"]
        shown = (await me.client.get(f"/api/v1/conversations/{cid}")).json()
        assert (shown["stored_assistant_id"], shown["title"]) == (aid, None)


class TestWhatCannotBeAConversationsAssistant:
    async def test_another_user_s_or_an_unknown_one_is_404_and_nothing_is_made(
        self, me: Caller, someone: Caller, session: AsyncSession
    ) -> None:
        theirs = await made(someone, "persona", context={"voice": "Eve"})
        for assistant_id, status, named in (
            (theirs, 404, theirs),
            (str(uuid.uuid4()), 404, "was not found"),
            ("no-such-graph", 422, "no-such-graph"),
        ):
            response = await me.client.post("/api/v1/conversations", json={"assistant_id": assistant_id})
            assert response.status_code == status, response.text
            assert named in response.json()["detail"]
        count = select(func.count()).select_from(Conversation).where(Conversation.user_id == me.id)
        assert await session.scalar(count) == 0

    async def test_one_moved_to_another_graph_is_a_409_naming_both(self, me: Caller) -> None:
        aid = await made(me, "whoami")
        cid = (await conversation_with(me, aid))["id"]
        moved = await change(me, "PATCH", aid, graph_id="persona", context={"voice": "Ada"})
        assert moved.status_code == 200, moved.text
        response = await me.send(cid, "hi")
        assert response.status_code == 409, response.text
        assert "persona graph" in response.json()["detail"]
        assert "whoami graph" in response.json()["detail"]


class TestADeletedAssistant:
    async def test_leaves_the_conversation_on_its_graph_as_it_is(self, me: Caller) -> None:
        aid = await made(me, "whoami")
        cid = (await conversation_with(me, aid))["id"]
        assert f"assistant={aid}" in await reply(me, cid)
        assert (await change(me, "DELETE", aid)).status_code == 204
        shown = (await me.client.get(f"/api/v1/conversations/{cid}")).json()
        assert (shown["assistant_id"], shown["stored_assistant_id"], shown["message_count"]) == (
            "whoami",
            None,
            2,
        )
        assert "assistant=whoami graph=whoami" in await reply(me, cid)

    async def test_whose_graph_needs_a_context_asks_the_message_for_one(self, me: Caller) -> None:
        aid = await made(me, "persona", context={"voice": "Ada"})
        cid = (await conversation_with(me, aid))["id"]
        assert (await change(me, "DELETE", aid)).status_code == 204
        refused = await me.send(cid, "hi")
        assert refused.status_code == 422, refused.text
        assert "voice" in refused.json()["detail"]
        assert await reply(me, cid, context={"voice": "Bo"}) == "Bo says hello"

    @pytest.mark.parametrize("write", ["create", "choose"])
    async def test_a_choice_racing_its_delete_is_404(
        self, me: Caller, engine: AsyncEngine, write: str
    ) -> None:
        aid = await made(me, "whoami")
        cid = (await conversation_with(me, "whoami"))["id"]
        async with engine.connect() as holder:
            # The delete has gone through, not committed yet: the request reads the
            # assistant as there, then its write waits on the row the delete holds.
            await holder.execute(text("DELETE FROM assistants WHERE assistant_id = :a"), {"a": aid})
            chosen = {"assistant_id": aid}
            racing = asyncio.create_task(
                me.client.post("/api/v1/conversations", json=chosen)
                if write == "create"
                else me.client.patch(f"/api/v1/conversations/{cid}", json=chosen)
            )
            await until(lambda: waiting_behind(engine, holder), f"the {write} waiting on the delete")
            await holder.commit()
            answer = await racing
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "AssistantNotFound"
