"""A caller sees only their own conversations: another user's answers 404, like a missing one."""

import asyncio

import httpx

from tests.http_client import Caller


def _is_not_found(response: httpx.Response) -> bool:
    return response.status_code == 404 and set(response.json()) == {"error", "detail"}


class TestTwoUsers:
    async def test_every_route_hides_the_other_users_conversation(self, alice: Caller, bob: Caller) -> None:
        conversation = await alice.conversation("alice's secret")
        reply = (await alice.send(conversation, "for alice only")).json()
        run_id = reply["run_id"]
        checkpoint = reply["assistant_message"]["checkpoint_id"]
        base = f"/api/v1/conversations/{conversation}"

        attempts = {
            "get": bob.client.get(base),
            "rename": bob.client.patch(base, json={"title": "mine now"}),
            "archive": bob.client.patch(base, json={"archived": True}),
            "history": bob.client.get(f"{base}/messages"),
            "send": bob.client.post(f"{base}/messages", json={"content": "hi"}),
            "stream": bob.client.post(
                f"{base}/messages", json={"content": "hi"}, headers={"Accept": "text/event-stream"}
            ),
            "runs": bob.client.get(f"{base}/runs"),
            "feedback": bob.client.put(f"/api/v1/runs/{run_id}/feedback", json={"sentiment": "negative"}),
            "checkpoints": bob.client.get(f"{base}/checkpoints"),
            "state": bob.client.get(f"{base}/checkpoints/{checkpoint}"),
            "fork": bob.client.post(f"{base}/fork", json={}),
            "fork at": bob.client.post(f"{base}/fork", json={"checkpoint_id": checkpoint}),
            "delete": bob.client.delete(base),
        }
        results = dict(zip(attempts, await asyncio.gather(*attempts.values()), strict=True))
        assert {name for name, response in results.items() if not _is_not_found(response)} == set()

        # Nothing of Alice's moved, and nothing of hers shows in Bob's lists.
        mine = (await alice.client.get(base)).json()
        assert (mine["title"], mine["archived"], mine["message_count"]) == ("alice's secret", False, 2)
        runs = (await alice.client.get(f"{base}/runs")).json()["items"]
        assert [(r["run_id"], r["sentiment"]) for r in runs] == [(run_id, None)]
        for archived in ("false", "true", "all"):
            page = (await bob.client.get("/api/v1/conversations", params={"archived": archived})).json()
            assert (page["items"], page["total"]) == ([], 0)

    async def test_a_missing_conversation_answers_exactly_like_anothers(
        self, alice: Caller, bob: Caller
    ) -> None:
        conversation = await alice.conversation()
        theirs = await bob.client.get(f"/api/v1/conversations/{conversation}")
        deleted = await alice.conversation()
        await alice.client.delete(f"/api/v1/conversations/{deleted}")
        missing = await bob.client.get(f"/api/v1/conversations/{deleted}")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["error"] == missing.json()["error"]
        assert theirs.json()["detail"].replace(conversation, "ID") == missing.json()["detail"].replace(
            deleted, "ID"
        )

    async def test_a_cursor_from_one_user_shows_another_nothing_of_theirs(
        self, alice: Caller, bob: Caller
    ) -> None:
        for _ in range(3):
            await alice.conversation()
        await bob.conversation()
        cursor = (await alice.client.get("/api/v1/conversations", params={"limit": 1})).json()["next_cursor"]
        page = (await bob.client.get("/api/v1/conversations", params={"cursor": cursor})).json()
        alice_ids = {i["id"] for i in (await alice.client.get("/api/v1/conversations")).json()["items"]}
        assert not alice_ids & {i["id"] for i in page["items"]}
