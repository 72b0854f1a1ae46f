"""/api/v1/memories: the caller's store items, in pages, searched, deleted; no one else's."""

import pytest

from tests.http_client import Caller


async def _remember(caller: Caller, namespace: list[str], key: str, value: dict[str, object]) -> None:
    response = await caller.client.put(
        "/langgraph/store/items", json={"namespace": namespace, "key": key, "value": value}
    )
    assert response.status_code == 204, response.text


class TestMemories:
    async def test_pages_walk_every_memory_newest_first_once(self, alice: Caller) -> None:
        for number in range(5):
            await _remember(alice, ["memories", "a|b"], f"k{number}|x", {"n": number})
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await alice.client.get("/api/v1/memories", params=params)).json()
            seen += [item["key"] for item in page["items"]]
            assert all(item["namespace"] == ["memories", "a|b"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"k{number}|x" for number in reversed(range(5))]

    async def test_another_users_memories_are_never_listed_searched_or_deleted(
        self, alice: Caller, bob: Caller
    ) -> None:
        await _remember(alice, ["memories"], "tea", {"fact": "likes green tea"})
        assert (await bob.client.get("/api/v1/memories")).json()["items"] == []
        assert (await bob.client.get("/api/v1/memories", params={"q": "tea"})).json()["items"] == []
        gone = await bob.client.delete(
            "/api/v1/memories/item", params={"namespace": "memories", "key": "tea"}
        )
        assert gone.status_code == 404
        assert (await bob.client.delete("/api/v1/memories")).json() == {"deleted": 0}
        found = (await alice.client.get("/api/v1/memories", params={"q": "tea"})).json()["items"]
        assert [item["value"] for item in found] == [{"fact": "likes green tea"}]

    async def test_one_is_deleted_then_all(self, alice: Caller) -> None:
        await _remember(alice, ["memories", "food"], "tea", {"fact": "tea"})
        await _remember(alice, ["memories"], "car", {"fact": "car"})
        await _remember(alice, ["notes"], "n", {"fact": "note"})
        one = await alice.client.delete(
            "/api/v1/memories/item", params=[("namespace", "memories"), ("namespace", "food"), ("key", "tea")]
        )
        assert one.status_code == 204
        keys = [item["key"] for item in (await alice.client.get("/api/v1/memories")).json()["items"]]
        assert sorted(keys) == ["car", "n"]
        assert (await alice.client.delete("/api/v1/memories")).json() == {"deleted": 2}
        assert (await alice.client.get("/api/v1/memories")).json()["items"] == []

    @pytest.mark.parametrize(
        "params",
        [{"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 101}, {"q": ""}, {"q": "a\x00"}],
    )
    async def test_bad_input_is_a_422(self, alice: Caller, params: dict[str, str | int]) -> None:
        response = await alice.client.get("/api/v1/memories", params=params)
        assert response.status_code == 422, response.text

    async def test_a_bad_namespace_to_delete_is_a_422_naming_it(self, alice: Caller) -> None:
        response = await alice.client.delete("/api/v1/memories/item", params={"namespace": "a.b", "key": "k"})
        assert response.status_code == 422
        assert "period" in response.json()["detail"]

    async def test_q_ranks_by_meaning_where_the_database_has_pgvector_else_lists_newest_first(
        self, alice: Caller
    ) -> None:
        await _remember(alice, ["memories"], "tea", {"fact": "My favourite drink is green tea"})
        await _remember(alice, ["memories"], "car", {"fact": "The car needs new winter tyres"})
        found = (await alice.client.get("/api/v1/memories", params={"q": "what beverage do I like?"})).json()
        if alice.app.state.store.embeddings is not None:
            assert [item["key"] for item in found["items"]] == ["tea", "car"]
            assert found["items"][0]["score"] > found["items"][1]["score"]
        else:
            assert [item["key"] for item in found["items"]] == ["car", "tea"]
            assert all(item["score"] is None for item in found["items"])
