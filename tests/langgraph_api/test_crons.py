"""Crons through langgraph-sdk: made on a thread or stateless, searched,
counted, changed and deleted, refused when they could never fire, hidden
from other users; made due (their next due time moved into the past, as
time passing would) they fire a run through the run engine, joined like any."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,arg-type,typeddict-item,call-overload,union-attr"
# mypy: disable-error-code="typeddict-unknown-key,comparison-overlap"

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conditions import until
from tests.langgraph_api.conftest import token_for
from tests.langgraph_api.crons import all_advanced, fired, make_due, next_run_at
from tests.langgraph_api.test_runs import LONG, said
from tests.server import Server

EVERY_HOUR = "0 * * * *"


def _reply(values: dict[str, Any]) -> str:
    return str(values["messages"][-1]["content"])


async def _get(sdk: LangGraphClient, cron_id: str) -> Any:
    """`GET /runs/crons/{id}`, which the Agent Server serves and the SDK does not call."""
    return await sdk.http.get(f"/runs/crons/{cron_id}")


async def test_info_says_crons_are_served(sdk: LangGraphClient) -> None:
    # /info tells a client which optional parts of the Agent Server this one serves.
    assert (await sdk.http.get("/info"))["flags"]["crons"] is True


async def test_a_thread_cron_fires_a_run_joined_like_any(sdk: LangGraphClient, engine: AsyncEngine) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    cron = await sdk.crons.create_for_thread(
        thread, "chat", schedule=EVERY_HOUR, input=said("on time"), metadata={"job": "hourly"}
    )
    assert (cron["thread_id"], cron["assistant_id"], cron["schedule"]) == (thread, "chat", EVERY_HOUR)
    assert (cron["enabled"], cron["on_run_completed"], cron["metadata"]) == (True, None, {"job": "hourly"})
    assert cron["payload"]["input"] == said("on time")
    due = datetime.fromisoformat(cron["next_run_date"])
    assert (due.minute, due.second) == (0, 0)
    assert due > datetime.now(UTC)

    await make_due(engine, cron["cron_id"])
    [(run_id, on)] = await until(lambda: fired(engine, cron["cron_id"]), "the cron fired")
    assert on == thread
    assert _reply(await sdk.runs.join(thread, run_id)) == "Reply 1: you said “on time”."
    run = await sdk.runs.get(thread, run_id)
    assert run["metadata"] == {"job": "hourly", "cron_id": cron["cron_id"]}
    # The next due time is the next hour, past now.
    after = await next_run_at(engine, cron["cron_id"])
    assert after is not None
    assert after > datetime.now(UTC)
    assert after.minute == 0


async def test_a_stateless_cron_keeps_or_deletes_its_runs_threads(
    sdk: LangGraphClient, engine: AsyncEngine
) -> None:
    before = await sdk.threads.count()
    kept = await sdk.crons.create("chat", schedule=EVERY_HOUR, input=said("kept"), on_run_completed="keep")
    assert (kept["thread_id"], kept["on_run_completed"]) == (None, "keep")
    await make_due(engine, kept["cron_id"])
    [(run_id, thread)] = await until(lambda: fired(engine, kept["cron_id"]), "the kept cron fired")
    assert _reply(await sdk.runs.join(thread, run_id)) == "Reply 1: you said “kept”."
    assert await sdk.threads.count() == before + 1

    gone = await sdk.crons.create("chat", schedule=EVERY_HOUR, input=said(LONG))
    assert gone["on_run_completed"] == "delete"
    await make_due(engine, gone["cron_id"])
    # A long reply, cancelled like any run; its thread goes once it ended.
    [(run_id, thread)] = await until(lambda: fired(engine, gone["cron_id"]), "the cron fired")
    assert (await sdk.runs.get(thread, run_id))["metadata"]["cron_id"] == gone["cron_id"]
    await sdk.runs.cancel(thread, run_id)

    async def deleted() -> bool:
        return await sdk.threads.count() == before + 1

    await until(deleted, "the stateless cron's thread deleted once its run ended")


async def test_crons_are_searched_counted_changed_and_deleted(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    on_thread = await sdk.crons.create_for_thread(thread, "chat", schedule="*/5 * * * *", metadata={"k": "a"})
    stateless = await sdk.crons.create(
        "research", schedule="30 9 * * 1-5", timezone="Europe/Paris", metadata={"k": "b"}, enabled=False
    )
    assert (stateless["timezone"], stateless["next_run_date"]) == ("Europe/Paris", None)
    ids = {on_thread["cron_id"], stateless["cron_id"]}
    assert {c["cron_id"] for c in await sdk.crons.search(limit=100)} == ids
    assert [c["cron_id"] for c in await sdk.crons.search(thread_id=thread)] == [on_thread["cron_id"]]
    assert [c["cron_id"] for c in await sdk.crons.search(assistant_id="research")] == [stateless["cron_id"]]
    assert [c["cron_id"] for c in await sdk.crons.search(metadata={"k": "a"})] == [on_thread["cron_id"]]
    assert [c["cron_id"] for c in await sdk.crons.search(enabled=False)] == [stateless["cron_id"]]
    oldest_first = await sdk.crons.search(
        sort_by="created_at", sort_order="asc", select=["cron_id", "schedule"]
    )
    assert oldest_first == [
        {"cron_id": on_thread["cron_id"], "schedule": "*/5 * * * *"},
        {"cron_id": stateless["cron_id"], "schedule": "30 9 * * 1-5"},
    ]
    assert await sdk.crons.count() == 2
    assert await sdk.crons.count(metadata={"k": "b"}) == 1
    assert await sdk.crons.count(thread_id=thread) == 1

    # Enabled: due at the next 9:30 on a weekday, in Paris.
    changed = await sdk.crons.update(
        stateless["cron_id"], enabled=True, metadata={"more": 1}, input=said("x")
    )
    due = datetime.fromisoformat(changed["next_run_date"])
    paris = due.astimezone(ZoneInfo("Europe/Paris"))
    assert (paris.hour, paris.minute, paris.weekday() < 5) == (9, 30, True)
    assert due > datetime.now(UTC)
    assert changed["metadata"] == {"k": "b", "more": 1}
    assert changed["payload"]["input"] == said("x")
    assert changed["payload"]["metadata"] == changed["metadata"]
    assert (await _get(sdk, stateless["cron_id"]))["enabled"] is True
    ends = datetime.now(UTC) + timedelta(days=3)
    ended = await sdk.crons.update(on_thread["cron_id"], schedule="0 0 1 1 *", end_time=ends)
    # The first of January comes after the end: it will not fire.
    assert (ended["next_run_date"], ended["schedule"]) == (None, "0 0 1 1 *")
    # An ended cron can be disabled, and an end in the past is refused.
    assert (await sdk.crons.update(on_thread["cron_id"], enabled=False))["enabled"] is False
    with pytest.raises(UnprocessableEntityError):
        await sdk.crons.update(on_thread["cron_id"], end_time=datetime.now(UTC) - timedelta(hours=1))
    unended = await sdk.crons.update(on_thread["cron_id"], end_time=None, enabled=True)
    assert unended["end_time"] is None
    assert unended["next_run_date"] is not None

    await sdk.crons.delete(on_thread["cron_id"])
    with pytest.raises(NotFoundError):
        await _get(sdk, on_thread["cron_id"])
    with pytest.raises(NotFoundError):
        await sdk.crons.delete(on_thread["cron_id"])
    assert await sdk.crons.count() == 1
    # A thread deleted takes its crons with it.
    second = await sdk.crons.create_for_thread(thread, "chat", schedule=EVERY_HOUR)
    await sdk.threads.delete(thread)
    with pytest.raises(NotFoundError):
        await _get(sdk, second["cron_id"])


async def test_a_cron_that_could_never_fire_is_refused_and_not_stored(
    sdk: LangGraphClient, sdk_for: Callable[[str], LangGraphClient], server: Server
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    theirs = sdk_for(await token_for(server))
    their_assistant = (await theirs.assistants.create("chat"))["assistant_id"]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"schedule": "every day"}, "InvalidSchedule"),
        ({"schedule": "0 0 30 2 *"}, "InvalidSchedule"),  # February has no 30th
        ({"schedule": EVERY_HOUR, "timezone": "Mars/Olympus_Mons"}, "InvalidTimezone"),
        ({"schedule": EVERY_HOUR, "end_time": datetime.now(UTC) - timedelta(minutes=1)}, "EndTimeInPast"),
        ({"schedule": EVERY_HOUR, "config": {"configurable": "not an object"}}, "InvalidConfig"),
        ({"schedule": EVERY_HOUR, "config": {"temperature": 1}}, "InvalidConfig"),
        ({"schedule": EVERY_HOUR, "webhook": "https://example.com/hook"}, "NotServed"),
    ]
    for fields, error in refused:
        with pytest.raises(UnprocessableEntityError) as caught:
            await sdk.crons.create("chat", **fields)
        assert caught.value.response.json()["error"] == error, fields
        with pytest.raises(UnprocessableEntityError) as caught:
            await sdk.crons.create_for_thread(thread, "chat", **fields)
        assert caught.value.response.json()["error"] == error, fields
    with pytest.raises(UnprocessableEntityError) as caught:
        await sdk.crons.create("no-such-graph", schedule=EVERY_HOUR)
    assert caught.value.response.json()["error"] == "UnknownAssistant"
    with pytest.raises(UnprocessableEntityError):
        await sdk.http.post(
            "/runs/crons", json={"assistant_id": "chat", "schedule": EVERY_HOUR, "config": "x"}
        )
    keep = {"assistant_id": "chat", "schedule": EVERY_HOUR, "on_run_completed": "keep"}
    with pytest.raises(UnprocessableEntityError):
        await sdk.http.post(f"/threads/{thread}/runs/crons", json=keep)
    with pytest.raises(NotFoundError):
        await sdk.crons.create(their_assistant, schedule=EVERY_HOUR)
    with pytest.raises(NotFoundError):
        await theirs.crons.create_for_thread(thread, "chat", schedule=EVERY_HOUR)
    assert await sdk.crons.count() == 0
    made = await sdk.crons.create("chat", schedule=EVERY_HOUR)
    for change in ({"schedule": "nope"}, {"timezone": "Nowhere/Land"}, {"config": {"x": 1}}):
        with pytest.raises(UnprocessableEntityError):
            await sdk.crons.update(made["cron_id"], **change)
    with pytest.raises(UnprocessableEntityError):
        await sdk.http.patch(f"/runs/crons/{made['cron_id']}", json={})
    assert await _get(sdk, made["cron_id"]) == made


async def test_another_users_crons_are_hidden(
    sdk: LangGraphClient, sdk_for: Callable[[str], LangGraphClient], server: Server
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    mine = await sdk.crons.create_for_thread(thread, "chat", schedule=EVERY_HOUR, metadata={"who": "me"})
    theirs = sdk_for(await token_for(server))
    with pytest.raises(NotFoundError):
        await _get(theirs, mine["cron_id"])
    with pytest.raises(NotFoundError):
        await theirs.crons.update(mine["cron_id"], enabled=False)
    with pytest.raises(NotFoundError):
        await theirs.crons.delete(mine["cron_id"])
    assert await theirs.crons.search(thread_id=thread) == []
    assert await theirs.crons.count(metadata={"who": "me"}) == 0
    assert (await _get(sdk, mine["cron_id"]))["enabled"] is True


async def test_a_run_refused_at_its_time_lets_the_others_fire(
    sdk: LangGraphClient, engine: AsyncEngine
) -> None:
    """A thread busy with a run, and a cron of it whose strategy is `reject`:
    that due time passes, logged; the cron due with it fires all the same."""
    busy = (await sdk.threads.create())["thread_id"]
    running = await sdk.runs.create(busy, "chat", input=said(LONG))
    refused = await sdk.crons.create_for_thread(
        busy, "chat", schedule=EVERY_HOUR, input=said("refused"), multitask_strategy="reject"
    )
    other = await sdk.crons.create("chat", schedule=EVERY_HOUR, input=said("fires"), on_run_completed="keep")
    await make_due(engine, refused["cron_id"], other["cron_id"])
    [(run_id, thread)] = await until(lambda: fired(engine, other["cron_id"]), "the other cron fired")
    assert _reply(await sdk.runs.join(thread, run_id)) == "Reply 1: you said “fires”."
    assert await all_advanced(engine, refused["cron_id"])
    assert await fired(engine, refused["cron_id"]) == []
    assert [run["run_id"] for run in await sdk.runs.list(busy)] == [running["run_id"]]
    await sdk.runs.cancel(busy, running["run_id"], wait=True)
