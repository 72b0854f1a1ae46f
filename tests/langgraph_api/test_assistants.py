# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,typeddict-item,arg-type"
"""Assistants through langgraph-sdk, unchanged: configurations of the graphs
of a `langgraph.json` (tests/langgraph_api/assistants_project), made,
versioned, searched and deleted by their owner alone; the graphs themselves
shared and read-only."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import (
    APIStatusError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.agents.local_model import LocalChatModel
from app.agents.registry import UnknownAssistant
from app.models import AssistantVersion, StoredAssistant, User
from app.services.assistants.errors import AssistantNotFound
from app.services.assistants.service import AssistantService
from tests.http_client import AppFactory
from tests.langgraph_api.in_process import SdkUser, sdk_users

PROJECT = Path(__file__).parent / "assistants_project" / "langgraph.json"


@pytest.fixture
async def app(app_factory: AppFactory) -> Any:
    return await app_factory(LocalChatModel(), PROJECT)


@pytest.fixture
async def users(app: Any) -> AsyncIterator[list[SdkUser]]:
    """Two users, each with an SDK client of the Agent Server API."""
    async with sdk_users(app) as made:
        yield made


@pytest.fixture
def sdk(users: list[SdkUser]) -> LangGraphClient:
    return users[0].sdk


@pytest.fixture
def other(users: list[SdkUser]) -> LangGraphClient:
    return users[1].sdk


class TestMade:
    async def test_an_assistant_is_made_of_a_graph_with_its_configuration(self, sdk: LangGraphClient) -> None:
        made = await sdk.assistants.create(
            "persona",
            context={"voice": "Ada", "excitement": 2},
            metadata={"team": "docs"},
            name="Ada",
            description="Speaks as Ada.",
        )
        assert uuid.UUID(made["assistant_id"])
        assert made["graph_id"] == "persona"
        assert (made["name"], made["description"], made["version"]) == ("Ada", "Speaks as Ada.", 1)
        assert made["context"] == {"voice": "Ada", "excitement": 2}
        # As on the Agent Server: configurable mirrors the context.
        assert made["config"] == {"configurable": {"voice": "Ada", "excitement": 2}}
        assert made["metadata"] == {"team": "docs"}
        assert await sdk.assistants.get(made["assistant_id"]) == made

    async def test_defaults_and_a_config_of_its_own(self, sdk: LangGraphClient) -> None:
        made = await sdk.assistants.create(
            "tools", config={"configurable": {"tools": ["a", "b"]}, "tags": ["x"]}
        )
        assert made["name"] == "Untitled"
        assert made["description"] is None
        assert made["metadata"] == {}
        assert made["context"] == {}
        assert made["config"] == {"configurable": {"tools": ["a", "b"]}, "tags": ["x"]}

    async def test_a_chosen_id_and_if_exists(self, sdk: LangGraphClient, other: LangGraphClient) -> None:
        chosen = str(uuid.uuid4())
        made = await sdk.assistants.create("persona", assistant_id=chosen, context={"voice": "Bo"})
        assert made["assistant_id"] == chosen
        with pytest.raises(ConflictError):
            await sdk.assistants.create("persona", assistant_id=chosen)
        again = await sdk.assistants.create("tools", assistant_id=chosen, if_exists="do_nothing")
        assert again == made
        # Another user's id is taken, whatever they ask: never theirs to read.
        for if_exists in ("raise", "do_nothing"):
            with pytest.raises(ConflictError):
                await other.assistants.create("persona", assistant_id=chosen, if_exists=if_exists)

    async def test_concurrent_creates_of_one_id_make_one_assistant(
        self, sdk: LangGraphClient, engine: AsyncEngine
    ) -> None:
        chosen = str(uuid.uuid4())
        made = await asyncio.gather(
            *(
                sdk.assistants.create("persona", assistant_id=chosen, if_exists="do_nothing", name=f"n{i}")
                for i in range(6)
            )
        )
        assert {m["assistant_id"] for m in made} == {chosen}
        assert len({m["name"] for m in made}) == 1  # every caller got the one that won
        async with engine.connect() as conn:
            rows = await conn.scalar(
                select(func.count()).where(StoredAssistant.assistant_id == uuid.UUID(chosen))
            )
            versions = await conn.scalar(
                select(func.count()).where(AssistantVersion.assistant_id == uuid.UUID(chosen))
            )
        assert (rows, versions) == (1, 1)


class TestVersions:
    async def test_an_update_is_a_new_current_version_and_an_old_one_can_be_current_again(
        self, sdk: LangGraphClient
    ) -> None:
        made = await sdk.assistants.create("persona", context={"voice": "Ada"}, metadata={"a": 1}, name="Ada")
        aid = made["assistant_id"]
        second = await sdk.assistants.update(aid, context={"voice": "Bo"}, metadata={"b": 2})
        assert second["version"] == 2
        assert second["context"] == {"voice": "Bo"}
        assert second["metadata"] == {"a": 1, "b": 2}  # merged
        assert second["name"] == "Ada"  # kept
        assert second["updated_at"] >= made["updated_at"]
        third = await sdk.assistants.update(aid, name="Cy")
        assert (third["version"], third["name"], third["context"]) == (3, "Cy", {"voice": "Bo"})

        versions = await sdk.assistants.get_versions(aid)
        assert [v["version"] for v in versions] == [3, 2, 1]
        assert [v["name"] for v in versions] == ["Cy", "Ada", "Ada"]
        assert [v["version"] for v in await sdk.assistants.get_versions(aid, metadata={"b": 2})] == [3, 2]
        assert [v["version"] for v in await sdk.assistants.get_versions(aid, limit=1, offset=1)] == [2]

        back = await sdk.assistants.set_latest(aid, 1)
        assert (back["version"], back["name"], back["context"], back["metadata"]) == (
            1,
            "Ada",
            {"voice": "Ada"},
            {"a": 1},
        )
        assert (await sdk.assistants.get(aid))["version"] == 1
        # The next update follows the latest version made, not the current one.
        assert (await sdk.assistants.update(aid, name="Di"))["version"] == 4
        with pytest.raises(NotFoundError):
            await sdk.assistants.set_latest(aid, 9)

    async def test_concurrent_updates_each_make_a_version_of_their_own(self, sdk: LangGraphClient) -> None:
        made = await sdk.assistants.create("persona", context={"voice": "Ada"})
        aid = made["assistant_id"]
        updated = await asyncio.gather(*(sdk.assistants.update(aid, name=f"n{i}") for i in range(5)))
        assert sorted(u["version"] for u in updated) == [2, 3, 4, 5, 6]
        versions = await sdk.assistants.get_versions(aid)
        assert [v["version"] for v in versions] == [6, 5, 4, 3, 2, 1]
        current = await sdk.assistants.get(aid)
        assert current["version"] == 6
        assert current["name"] == versions[0]["name"]

    async def test_an_update_can_move_an_assistant_to_another_graph(self, sdk: LangGraphClient) -> None:
        made = await sdk.assistants.create("tools", config={"configurable": {"tools": ["a"]}})
        moved = await sdk.assistants.update(made["assistant_id"], graph_id="persona", context={"voice": "Ed"})
        assert (moved["graph_id"], moved["context"]) == ("persona", {"voice": "Ed"})
        assert moved["config"] == {"configurable": {"voice": "Ed"}}
        # Configurable and context together, as the Agent Server answers a run: 400, nothing changed.
        with pytest.raises(BadRequestError):
            await sdk.assistants.update(
                made["assistant_id"], graph_id="tools", context={"x": 1}, config={"configurable": {"y": 2}}
            )
        assert (await sdk.assistants.get(made["assistant_id"]))["version"] == 2


class TestSearch:
    async def test_search_and_count_see_the_graphs_and_the_caller_s_own(
        self, sdk: LangGraphClient, other: LangGraphClient
    ) -> None:
        tag = uuid.uuid4().hex
        mine = [
            await sdk.assistants.create(
                "persona", context={"voice": f"v{i}"}, metadata={"tag": tag, "i": i}, name=f"Mine {i}"
            )
            for i in range(3)
        ]
        await other.assistants.create("persona", metadata={"tag": tag}, name="Theirs")

        everything = await sdk.assistants.search(limit=100)
        ids = [a["assistant_id"] for a in everything]
        assert set(ids) == {"chat", "persona", "tools", "nested", "whoami"} | {
            m["assistant_id"] for m in mine
        }
        # Newest first by default: the ones made here, then the graphs.
        assert ids[:3] == [m["assistant_id"] for m in reversed(mine)]
        assert await sdk.assistants.count() == 8
        assert await other.assistants.count() == 6

        tagged = await sdk.assistants.search(metadata={"tag": tag}, sort_by="name", sort_order="asc")
        assert [a["name"] for a in tagged] == ["Mine 0", "Mine 1", "Mine 2"]
        assert await sdk.assistants.count(metadata={"tag": tag, "i": 1}) == 1
        assert [a["assistant_id"] for a in await sdk.assistants.search(graph_id="tools")] == ["tools"]
        # The graphs carry the Agent Server's mark, which clients search by.
        systems = await sdk.assistants.search(metadata={"created_by": "system"}, limit=100)
        assert {a["assistant_id"] for a in systems} == {"chat", "persona", "tools", "nested", "whoami"}
        assert await sdk.assistants.get_versions("chat", metadata={"created_by": "system"})
        assert await sdk.assistants.get_versions("chat", metadata={"created_by": "someone"}) == []
        assert await sdk.assistants.count(graph_id="persona") == 4
        assert [a["name"] for a in await sdk.assistants.search(name="mINE 2")] == ["Mine 2"]
        page = await sdk.assistants.search(
            metadata={"tag": tag},
            limit=2,
            offset=1,
            sort_by="name",
            sort_order="asc",
            response_format="object",
        )
        assert [a["name"] for a in page["assistants"]] == ["Mine 1", "Mine 2"]
        assert page["next"] == "3"
        narrow = await sdk.assistants.search(
            metadata={"tag": tag}, select=["assistant_id", "version"], limit=1
        )
        assert narrow == [{"assistant_id": mine[2]["assistant_id"], "version": 1}]


class TestSystemAssistants:
    async def test_the_graphs_are_read_only_assistants(self, sdk: LangGraphClient) -> None:
        persona = await sdk.assistants.get("persona")
        assert (persona["graph_id"], persona["version"], persona["config"]) == ("persona", 1, {})
        assert [v["version"] for v in await sdk.assistants.get_versions("persona")] == [1]
        changes: list[Callable[[], Awaitable[Any]]] = [
            lambda: sdk.assistants.update("persona", name="mine now"),
            lambda: sdk.assistants.delete("persona"),
            lambda: sdk.assistants.set_latest("persona", 1),
        ]
        for change in changes:
            with pytest.raises(ConflictError, match="shared by every user"):
                await change()

    async def test_a_graph_that_did_not_load_says_why(self, sdk: LangGraphClient) -> None:
        with pytest.raises(APIStatusError) as caught:
            await sdk.assistants.create("broken")
        assert caught.value.response.status_code == 424
        assert "not installed" in caught.value.response.json()["detail"]
        with pytest.raises(APIStatusError) as caught:
            await sdk.assistants.get("broken")
        assert caught.value.response.status_code == 424


class TestGraphs:
    async def test_a_factory_assistant_draws_the_graph_its_config_makes(self, sdk: LangGraphClient) -> None:
        made = await sdk.assistants.create(
            "tools", config={"configurable": {"tools": ["search", "summarize"]}}
        )
        nodes = {n["id"] for n in (await sdk.assistants.get_graph(made["assistant_id"]))["nodes"]}
        assert {"search", "summarize"} <= nodes
        assert "summarize" not in {n["id"] for n in (await sdk.assistants.get_graph("tools"))["nodes"]}
        schemas = await sdk.assistants.get_schemas(made["assistant_id"])
        assert schemas["graph_id"] == "tools"
        assert "messages" in schemas["input_schema"]["properties"]

    async def test_a_factory_that_fails_on_an_assistant_s_config_is_a_424(self, sdk: LangGraphClient) -> None:
        made = await sdk.assistants.create("tools", config={"configurable": {"tools": ["explode"]}})
        with pytest.raises(APIStatusError) as caught:
            await sdk.assistants.get_graph(made["assistant_id"])
        assert caught.value.response.status_code == 424
        assert "no such tool: explode" in caught.value.response.json()["detail"]

    async def test_schemas_name_the_context_and_subgraphs_are_listed(self, sdk: LangGraphClient) -> None:
        schemas = await sdk.assistants.get_schemas("persona")
        assert set(schemas["context_schema"]["properties"]) == {"voice", "excitement"}
        made = await sdk.assistants.create("nested", name="counts")
        found = await sdk.assistants.get_subgraphs(made["assistant_id"])
        assert list(found) == ["counter"]
        assert "messages" in found["counter"]["input_schema"]["properties"]
        assert list(await sdk.assistants.get_subgraphs(made["assistant_id"], namespace="counter")) == [
            "counter"
        ]
        assert await sdk.assistants.get_subgraphs(made["assistant_id"], namespace="nowhere") == {}
        assert await sdk.assistants.get_subgraphs("persona") == {}


class TestPrivate:
    async def test_another_user_s_assistant_does_not_exist_for_them(
        self, sdk: LangGraphClient, other: LangGraphClient
    ) -> None:
        made = await sdk.assistants.create("persona", context={"voice": "Ada"}, metadata={"secret": "yes"})
        aid = made["assistant_id"]
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: other.assistants.get(aid),
            lambda: other.assistants.update(aid, name="taken"),
            lambda: other.assistants.delete(aid),
            lambda: other.assistants.get_versions(aid),
            lambda: other.assistants.set_latest(aid, 1),
            lambda: other.assistants.get_graph(aid),
            lambda: other.assistants.get_schemas(aid),
            lambda: other.assistants.get_subgraphs(aid),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                await call()
        assert aid not in {a["assistant_id"] for a in await other.assistants.search(limit=100)}
        assert await other.assistants.count(metadata={"secret": "yes"}) == 0
        # Untouched by all that.
        assert await sdk.assistants.get(aid) == made

    async def test_delete_takes_every_version_and_the_user_s_deletion_every_assistant(
        self, sdk: LangGraphClient, users: list[SdkUser], engine: AsyncEngine
    ) -> None:
        first = await sdk.assistants.create("persona", context={"voice": "Ada"})
        await sdk.assistants.update(first["assistant_id"], name="again")
        second = await sdk.assistants.create("tools")
        with pytest.raises(UnprocessableEntityError, match="delete_threads"):
            await sdk.assistants.delete(first["assistant_id"], delete_threads=True)
        await sdk.assistants.delete(first["assistant_id"])
        with pytest.raises(NotFoundError):
            await sdk.assistants.get(first["assistant_id"])
        with pytest.raises(NotFoundError):
            await sdk.assistants.delete(first["assistant_id"])

        async def left(assistant_id: str) -> tuple[int, int]:
            key = uuid.UUID(assistant_id)
            async with engine.connect() as conn:
                rows = await conn.scalar(select(func.count()).where(StoredAssistant.assistant_id == key))
                versions = await conn.scalar(select(func.count()).where(AssistantVersion.assistant_id == key))
            return int(rows or 0), int(versions or 0)

        assert await left(first["assistant_id"]) == (0, 0)
        assert await left(second["assistant_id"]) == (1, 1)
        async with engine.begin() as conn:
            await conn.execute(delete(User).where(User.id == users[0].uuid))
        assert await left(second["assistant_id"]) == (0, 0)


class TestBadInput:
    async def test_what_cannot_be_an_assistant_is_a_clear_4xx_and_stores_nothing(
        self, sdk: LangGraphClient, users: list[SdkUser], engine: AsyncEngine
    ) -> None:
        post = users[0].http.post
        bad: list[tuple[dict[str, Any] | bytes, int, str]] = [
            ({"graph_id": "nope"}, 422, "persona"),  # names the known graphs
            ({"graph_id": "persona", "config": [1]}, 422, "config"),
            ({"graph_id": "persona", "config": {"configurable": 3}}, 422, "configurable"),
            ({"graph_id": "persona", "context": {"excitement": 1}}, 422, "voice"),
            ({"graph_id": "chat", "context": {"voice": "a"}}, 422, "its context is the thread"),
            ({"graph_id": "persona", "config": {"callbacks": 1}}, 422, "callbacks"),
            (
                {"graph_id": "persona", "config": {"configurable": {"__pregel_store": 1}}},
                422,
                "only the server",
            ),
            ({"graph_id": "persona", "context": {"voice": "a", "excitement": "lots"}}, 422, "excitement"),
            (
                {
                    "graph_id": "persona",
                    "context": {"voice": "a"},
                    "config": {"configurable": {"voice": "b"}},
                },
                400,
                "both",
            ),
            ({"graph_id": "persona", "name": "a\x00b"}, 422, "NUL"),
            (b'{"graph_id": "persona", "name": "\\ud800"}', 422, "surrogate"),
            ({"graph_id": "persona", "metadata": {"n": 2**70}}, 422, "64-bit"),
            ({"graph_id": "persona", "assistant_id": "not-a-uuid"}, 422, "UUID"),
            ({"graph_id": "persona", "if_exists": "overwrite"}, 422, "if_exists"),
        ]
        for body, status, said in bad:
            if isinstance(body, bytes):
                answer = await post("/assistants", content=body, headers={"content-type": "application/json"})
            else:
                answer = await post("/assistants", json=body)
            assert answer.status_code == status, (body, answer.text)
            assert said in answer.json()["detail"], (body, answer.json())
        made = await sdk.assistants.create("persona", context={"voice": "a"})
        aid = made["assistant_id"]
        for path, refused in [
            (f"/assistants/{aid}/latest", {"version": 2**40}),
            (f"/assistants/{aid}/latest", {"version": 0}),
            (f"/assistants/{aid}/versions", {"limit": 10**30}),
            ("/assistants/search", {"offset": 2**64}),
            ("/assistants/search", {"select": ["secrets"]}),
            ("/assistants/search", {"metadata": {"k": "\x00"}}),
        ]:
            answer = await post(path, json=refused)
            assert answer.status_code == 422, (path, refused, answer.text)
        for xray in ("-1", "0.5", "lots", str(10**30)):
            answer = await users[0].http.get(f"/assistants/{aid}/graph", params={"xray": xray})
            assert answer.status_code == 422, (xray, answer.text)
        for xray in ("true", "1", "2", "false"):
            assert (
                await users[0].http.get("/assistants/nested/graph", params={"xray": xray})
            ).status_code == 200
        answer = await users[0].http.patch(f"/assistants/{aid}", json={"context": {"voice": 7}})
        assert (answer.status_code, "voice" in answer.json()["detail"]) == (422, True)
        assert await sdk.assistants.get(aid) == made
        async with engine.connect() as conn:
            mine = await conn.scalar(select(func.count()).where(StoredAssistant.user_id == users[0].uuid))
        assert mine == 1


class TestResolve:
    async def test_a_run_s_assistant_resolves_to_its_graph_and_configuration(
        self, app: Any, sdk: LangGraphClient, users: list[SdkUser], engine: AsyncEngine
    ) -> None:
        made = await sdk.assistants.create("persona", context={"voice": "Ada"})
        await sdk.assistants.update(made["assistant_id"], context={"voice": "Bo"})
        agents = app.state.chat_runner.agents
        async with AsyncSession(engine) as session:
            mine = AssistantService(session, users[0].uuid, agents)
            resolved = await mine.resolve(made["assistant_id"])
            assert (resolved.graph_id, resolved.context, resolved.version) == ("persona", {"voice": "Bo"}, 2)
            assert resolved.config == {"configurable": {"voice": "Bo"}}
            system = await mine.resolve("tools")
            assert (system.graph_id, system.config, system.context) == ("tools", {}, {})
            with pytest.raises(UnknownAssistant):
                await mine.resolve("nope")
            with pytest.raises(AssistantNotFound):
                await AssistantService(session, users[1].uuid, agents).resolve(made["assistant_id"])


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def last_reply(values: Any) -> str:
    return str(values["messages"][-1]["content"])


class TestRuns:
    async def test_a_run_of_an_assistant_runs_its_graph_with_its_context_under_the_run_s(
        self, sdk: LangGraphClient
    ) -> None:
        made = await sdk.assistants.create("persona", context={"voice": "Ada", "excitement": 1})
        aid = made["assistant_id"]
        thread = (await sdk.threads.create(graph_id="persona"))["thread_id"]
        assert last_reply(await sdk.runs.wait(thread, aid, input=said("hi"))) == "Ada says hello!"
        # The run's context over the assistant's, key by key.
        again = await sdk.runs.wait(thread, aid, input=said("hi"), context={"voice": "Bo"})
        assert last_reply(again) == "Bo says hello!"
        # The graph itself, with no assistant's context: the run must give one.
        assert last_reply(
            await sdk.runs.wait(thread, "persona", input=said("hi"), context={"voice": "Cy"})
        ) == ("Cy says hello")
        run = await sdk.runs.create(thread, aid, input=said("hi"))
        assert run["assistant_id"] == aid
        await sdk.runs.join(thread, run["run_id"])
        # An update is what the next run runs.
        await sdk.assistants.update(aid, context={"voice": "Di"})
        assert last_reply(await sdk.runs.wait(thread, aid, input=said("hi"))) == "Di says hello"

    async def test_a_graph_is_told_the_assistant_it_runs_as(self, sdk: LangGraphClient) -> None:
        made = await sdk.assistants.create("whoami", config={"configurable": {"user_id": "someone else"}})
        told = last_reply(await sdk.runs.wait(None, made["assistant_id"], input=said("who?")))
        assert f"assistant={made['assistant_id']} graph=whoami" in told
        assert "someone else" not in told  # the server's ids are its own, an assistant's too
        assert "assistant=whoami graph=whoami" in last_reply(
            await sdk.runs.wait(None, "whoami", input=said("who?"))
        )

    async def test_a_factory_assistant_s_config_makes_its_graph_for_each_run(
        self, sdk: LangGraphClient
    ) -> None:
        made = await sdk.assistants.create("tools", config={"configurable": {"tools": ["fetch", "sum"]}})
        values = await sdk.runs.wait(None, made["assistant_id"], input=said("go"))
        assert [m["content"] for m in values["messages"] if m["type"] == "ai"] == ["used fetch", "used sum"]

    async def test_a_thread_made_for_an_assistant_runs_its_graph_and_keeps_it(
        self, sdk: LangGraphClient
    ) -> None:
        persona = await sdk.assistants.create("persona", context={"voice": "Ada"})
        tools = await sdk.assistants.create("tools")
        thread = await sdk.threads.create(metadata={"assistant_id": persona["assistant_id"]})
        assert thread["metadata"]["graph_id"] == "persona"
        await sdk.runs.wait(thread["thread_id"], persona["assistant_id"], input=said("hi"))
        # runs.wait raises httpx's error, not the SDK's.
        with pytest.raises(httpx.HTTPStatusError, match="409") as caught:
            await sdk.runs.wait(thread["thread_id"], tools["assistant_id"], input=said("hi"))
        assert "runs the persona graph" in caught.value.response.text

    async def test_another_user_s_assistant_runs_for_nobody_else(
        self, sdk: LangGraphClient, other: LangGraphClient
    ) -> None:
        made = await sdk.assistants.create("persona", context={"voice": "Ada"})
        thread = (await other.threads.create(graph_id="persona"))["thread_id"]
        for on in (thread, None):  # a thread's run, a stateless one
            with pytest.raises(httpx.HTTPStatusError, match="404"):
                await other.runs.wait(on, made["assistant_id"], input=said("hi"))
        with pytest.raises(NotFoundError):
            await other.threads.create(metadata={"assistant_id": made["assistant_id"]})
