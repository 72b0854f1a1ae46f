"""Stateless background runs through langgraph-sdk: `runs.create(None, ...)`
and `runs.create_batch`, each on a thread of its own, read back with
`runs.get` and `runs.join` as the SDK calls them, and hidden from others."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,arg-type,typeddict-item,list-item"

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

from tests.conditions import until
from tests.langgraph_api.conftest import token_for
from tests.langgraph_api.test_runs import said
from tests.server import Server


def _reply(values: dict[str, Any]) -> str:
    return str(values["messages"][-1]["content"])


async def test_a_kept_background_run_is_read_back(sdk: LangGraphClient) -> None:
    run = await sdk.runs.create(None, "chat", input=said("later"), on_completion="keep", metadata={"k": 1})
    assert run["status"] in ("pending", "running", "success")
    assert (run["assistant_id"], run["metadata"]) == ("chat", {"k": 1})
    thread = run["thread_id"]
    assert _reply(await sdk.runs.join(thread, run["run_id"])) == "Reply 1: you said “later”."
    assert (await sdk.runs.get(thread, run["run_id"]))["status"] == "success"
    assert _reply((await sdk.threads.get_state(thread))["values"]) == "Reply 1: you said “later”."


async def test_a_background_run_joined_before_its_thread_goes(sdk: LangGraphClient) -> None:
    before = await sdk.threads.count()
    run = await sdk.runs.create(None, "chat", input=said("soon gone"))
    assert _reply(await sdk.runs.join(run["thread_id"], run["run_id"])) == "Reply 1: you said “soon gone”."

    async def gone() -> bool:
        return await sdk.threads.count() == before

    await until(gone, "the stateless run's thread deleted")
    with pytest.raises(NotFoundError):
        await sdk.runs.get(run["thread_id"], run["run_id"])


async def test_a_batch_starts_every_run_or_none(sdk: LangGraphClient) -> None:
    before = await sdk.threads.count()
    runs = await sdk.runs.create_batch(
        [
            {"assistant_id": "chat", "input": said("one"), "on_completion": "keep"},
            {"assistant_id": "chat", "input": said("two"), "on_completion": "keep"},
        ]
    )
    assert len({run["thread_id"] for run in runs}) == 2
    replies = [_reply(await sdk.runs.join(run["thread_id"], run["run_id"])) for run in runs]
    assert replies == ["Reply 1: you said “one”.", "Reply 1: you said “two”."]
    assert await sdk.threads.count() == before + 2
    # The second refused: the first is not stored either.
    with pytest.raises(UnprocessableEntityError):
        await sdk.runs.create_batch(
            [
                {"assistant_id": "chat", "input": said("fine"), "on_completion": "keep"},
                {"assistant_id": "no-such-graph", "input": said("refused")},
            ]
        )
    assert await sdk.threads.count() == before + 2


async def test_another_users_background_run_is_hidden(
    sdk: LangGraphClient, sdk_for: Callable[[str], LangGraphClient], server: Server
) -> None:
    run = await sdk.runs.create(None, "chat", input=said("mine"), on_completion="keep")
    await sdk.runs.join(run["thread_id"], run["run_id"])
    theirs = sdk_for(await token_for(server))
    with pytest.raises(NotFoundError):
        await theirs.runs.get(run["thread_id"], run["run_id"])
    # The SDK's join raises httpx's error, not its own.
    with pytest.raises(httpx.HTTPStatusError) as hidden:
        await theirs.runs.join(run["thread_id"], run["run_id"])
    assert hidden.value.response.status_code == 404
