"""Runs through langgraph-sdk: every stream mode, wait, background runs and
join, an interrupt resumed with a Command, a stream rejoined after a drop
with Last-Event-ID, the multitask strategies and cancel, checked against the
thread's state and the chat history afterwards."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,comparison-overlap,union-attr"
# mypy: disable-error-code="arg-type,typeddict-item,attr-defined,func-returns-value,dict-item"

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.conditions import until
from tests.langgraph_api.conftest import token_for
from tests.research_client import APPROVE, ASK, research_conversation
from tests.server import Server

ALL_MODES = ["values", "updates", "messages-tuple", "messages", "custom", "checkpoints", "tasks", "debug"]
LONG = "word " * 150  # some 300 tokens: a few seconds at the server's token delay


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def _events(parts: Any) -> list[tuple[str, Any, str | None]]:
    return [(part.event, part.data, part.id) async for part in parts]


async def _history(api: httpx.AsyncClient, thread_id: str) -> list[tuple[str, str]]:
    items = (await api.get(f"/api/v1/conversations/{thread_id}/messages")).json()["items"]
    return [(m["role"], m["content"]) for m in items]


async def test_every_stream_mode_of_a_chat_turn(sdk: LangGraphClient, api: httpx.AsyncClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    events = await _events(sdk.runs.stream(thread, "chat", input=said("hello"), stream_mode=ALL_MODES))
    names = [name for name, _, _ in events]
    assert names[0] == "metadata"
    assert names[-1] == "end"
    run_id = events[0][1]["run_id"]
    ids = [int(i) for _, _, i in events if i is not None]
    assert ids == sorted(ids)
    reply = "Reply 1: you said “hello”."
    values = [data for name, data, _ in events if name == "values"]
    assert [(m["type"], m["content"]) for m in values[-1]["messages"]] == [("human", "hello"), ("ai", reply)]
    updates = [data for name, data, _ in events if name == "updates"]
    assert [list(update) for update in updates] == [["respond"]]
    assert updates[0]["respond"]["messages"][-1]["content"] == reply
    tokens = [data[0]["content"] for name, data, _ in events if name == "messages"]
    assert "".join(tokens) == reply
    assert all(data[1]["langgraph_node"] for name, data, _ in events if name == "messages")
    partial = [data for name, data, _ in events if name == "messages/partial"]
    assert partial[-1][0]["content"] == reply
    assert len([name for name, _, _ in events if name == "messages/metadata"]) == 1
    assert {"checkpoints", "tasks", "debug"} <= set(names)
    # The history and the graph agree, and the run is recorded.
    assert await _history(api, thread) == [("user", "hello"), ("assistant", reply)]
    run = await sdk.runs.get(thread, run_id)
    assert (run["status"], run["assistant_id"], run["kwargs"]["stream_mode"]) == (
        "success",
        "chat",
        ALL_MODES,
    )


async def test_wait_background_and_join(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    values = await sdk.runs.wait(thread, "chat", input=said("first"))
    assert values["messages"][-1]["content"] == "Reply 1: you said “first”."

    run = await sdk.runs.create(thread, "chat", input=said(LONG), metadata={"from": "test"})
    assert run["status"] in ("pending", "running")
    assert run["metadata"] == {"from": "test"}
    assert (await sdk.threads.get(thread))["status"] == "busy"
    joined = await sdk.runs.join(thread, run["run_id"])
    assert [m["type"] for m in joined["messages"]] == ["human", "ai", "human", "ai"]
    assert (await sdk.runs.get(thread, run["run_id"]))["status"] == "success"
    listed = await sdk.runs.list(thread)
    assert listed[0]["run_id"] == run["run_id"]  # newest first
    assert len(listed) == 2
    assert [r["run_id"] for r in await sdk.runs.list(thread, status="success", limit=1)] == [run["run_id"]]
    await sdk.runs.delete(thread, run["run_id"])
    with pytest.raises(NotFoundError):
        await sdk.runs.get(thread, run["run_id"])
    assert len((await sdk.threads.get(thread))["values"]["messages"]) == 4  # the state stays


async def test_an_interrupt_and_its_resume_with_a_command(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create(graph_id="research"))["thread_id"]
    events = await _events(
        sdk.runs.stream(
            thread,
            "research",
            input=said("search for tides and save a note"),
            stream_mode=["values", "updates"],
        )
    )
    asked = [
        data["__interrupt__"] for name, data, _ in events if name == "values" and "__interrupt__" in data
    ]
    assert asked
    assert events[-1][0] == "end"
    waiting = await sdk.threads.get(thread)
    assert waiting["status"] == "interrupted"
    [(_task, interrupts)] = waiting["interrupts"].items()
    assert interrupts[0]["id"] == asked[-1][0]["id"]
    state = await sdk.threads.get_state(thread)
    assert state["next"]
    assert state["interrupts"][0]["id"] == asked[-1][0]["id"]

    # The interrupt is LangChain's approval request, which agent-chat-ui shows with its controls.
    [request] = state["interrupts"]
    assert [a["name"] for a in request["value"]["action_requests"]] == ["save_note"]
    assert request["value"]["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    values = await sdk.runs.wait(thread, "research", command={"resume": APPROVE})
    assert "__interrupt__" not in values
    assert (await sdk.threads.get(thread))["status"] == "idle"
    roles = [role for role, _ in await _history(api, thread)]
    assert roles[0] == "user"
    assert "interrupt" in roles


async def test_new_input_at_an_interrupt_goes_past_it_as_agent_chat_ui_sends_it(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    """Typing instead of answering: agent-chat-ui sends its placeholder result
    for the dangling call (ensureToolCallsHaveResponses) and the message; the
    Agent Server runs them and the graph drops the interrupt."""
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "research", input=said("save a note that tides turn"))
    state = await sdk.threads.get_state(thread)
    [call] = state["values"]["messages"][-1]["tool_calls"]
    assert state["interrupts"]
    placeholder = {
        "type": "tool",
        "tool_call_id": call["id"],
        "id": f"do-not-render-{uuid.uuid4()}",
        "name": call["name"],
        "content": "Successfully handled tool call.",
    }
    human = {"type": "human", "id": str(uuid.uuid4()), "content": [{"type": "text", "text": "never mind"}]}
    values = await sdk.runs.wait(thread, "research", input={"messages": [placeholder, human]})
    assert "__interrupt__" not in values
    kinds = [(m["type"], m.get("tool_call_id")) for m in values["messages"]][-4:]
    assert kinds == [("ai", None), ("tool", call["id"]), ("human", None), ("ai", None)]
    assert values["messages"][-3]["content"] == "Successfully handled tool call."
    after = await sdk.threads.get_state(thread)
    assert (after["interrupts"], after["next"]) == ([], [])
    assert (await sdk.threads.get(thread))["status"] == "idle"
    # The history keeps the placeholder once (no "not run" beside it) and the
    # question, which waits no more.
    items = (await api.get(f"/api/v1/conversations/{thread}/messages")).json()["items"]
    tools = [m for m in items if m["role"] == "tool"]
    assert [(m["content"], m["metadata"]["tool_call_id"]) for m in tools] == [
        ("Successfully handled tool call.", call["id"])
    ]
    [asked] = [m for m in items if m["role"] == "interrupt"]
    assert asked["metadata"]["pending"] is False
    assert asked["metadata"]["passed_by"] == (await sdk.runs.list(thread))[0]["run_id"]


async def test_a_dropped_stream_is_rejoined_after_its_last_event(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    seen: list[tuple[str, Any, str | None]] = []
    async for part in sdk.runs.stream(
        thread, "chat", input=said(LONG), stream_mode=["messages-tuple", "values"]
    ):
        seen.append((part.event, part.data, part.id))
        if len(seen) == 20:
            break  # the client drops the stream mid-run
    run_id, last = seen[0][1]["run_id"], seen[-1][2]
    rest = await _events(sdk.runs.join_stream(thread, run_id, last_event_id=last))
    # Exactly the run's stream, as a client reading it whole from its start
    # gets it: no event missed, none twice (ids skip the chat API's own events).
    whole = await _events(sdk.runs.join_stream(thread, run_id))
    assert seen + rest == whole
    # -1, as useStream's joinStream sends it after a reload: none seen, the whole stream.
    assert await _events(sdk.runs.join_stream(thread, run_id, last_event_id="-1")) == whole
    ids = [int(i) for _, _, i in seen + rest if i is not None]
    assert ids == sorted(set(ids))
    assert rest[-1][0] == "end"
    tokens = [data[0]["content"] for name, data, _ in seen + rest if name == "messages"]
    assert "".join(tokens).endswith("”.")
    # The whole run again, in one mode of those it recorded.
    values_only = await _events(sdk.runs.join_stream(thread, run_id, stream_mode="values"))
    assert {name for name, _, _ in values_only} == {"metadata", "values", "end"}


async def _running(sdk: LangGraphClient, thread: str) -> str:
    run = await sdk.runs.create(thread, "chat", input=said(LONG))
    await until(lambda: _status(sdk, thread, run["run_id"], "running"), "the run running")
    return str(run["run_id"])


async def _status(sdk: LangGraphClient, thread: str, run_id: str, status: str) -> bool:
    return (await sdk.runs.get(thread, run_id))["status"] == status


async def test_multitask_strategies(sdk: LangGraphClient, api: httpx.AsyncClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    first = await _running(sdk, thread)
    with pytest.raises(ConflictError):
        await sdk.runs.create(thread, "chat", input=said("rejected"), multitask_strategy="reject")
    # The Agent Server's default strategy: queued behind the running run.
    queued = await sdk.runs.create(thread, "chat", input=said("queued"))
    assert (queued["status"], queued["multitask_strategy"]) == ("pending", "enqueue")
    await sdk.runs.join(thread, queued["run_id"])
    assert [(role, text[:6]) for role, text in await _history(api, thread)] == [
        ("user", "word w"),
        ("assistant", "Reply "),
        ("user", "queued"),
        ("assistant", "Reply "),
    ]
    assert await _status(sdk, thread, first, "success")

    second = await _running(sdk, thread)
    kept = await sdk.runs.wait(thread, "chat", input=said("instead"), multitask_strategy="interrupt")
    assert kept["messages"][-1]["content"] == "Reply 4: you said “instead”."
    assert await _status(sdk, thread, second, "interrupted")

    third = await _running(sdk, thread)
    after = await sdk.runs.wait(thread, "chat", input=said("rather"), multitask_strategy="rollback")
    assert after["messages"][-1]["content"] == "Reply 5: you said “rather”."
    with pytest.raises(NotFoundError):
        await sdk.runs.get(thread, third)
    history = await _history(api, thread)
    assert [text[:6] for role, text in history if role == "user"] == [
        "word w",
        "queued",
        "word w",
        "instea",
        "rather",
    ]


async def test_stop_then_send_answers_the_new_message(sdk: LangGraphClient, api: httpx.AsyncClient) -> None:
    """agent-chat-ui's "stop": it closes the stream (`on_disconnect: continue`)
    and sends the next message with no strategy while the old run goes on."""
    thread = (await sdk.threads.create())["thread_id"]
    stream = sdk.runs.stream(
        thread, "chat", input=said(LONG), stream_mode=["messages-tuple", "values"], on_disconnect="continue"
    )
    async for part in stream:
        if part.event == "messages":
            break  # the person pressed stop mid-reply
    await stream.aclose()
    values = await sdk.runs.wait(thread, "chat", input=said("and now this"))
    assert values["messages"][-1]["content"] == "Reply 2: you said “and now this”."
    assert [role for role, _ in await _history(api, thread)] == ["user", "assistant", "user", "assistant"]


async def test_cancel_with_rollback_leaves_no_trace(sdk: LangGraphClient, api: httpx.AsyncClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "chat", input=said("kept"))
    run_id = await _running(sdk, thread)
    await sdk.runs.cancel(thread, run_id, wait=True, action="rollback")
    with pytest.raises(NotFoundError):
        await sdk.runs.get(thread, run_id)
    state = await sdk.threads.get_state(thread)
    assert [m["content"] for m in state["values"]["messages"] if m["type"] == "human"] == ["kept"]
    assert [role for role, _ in await _history(api, thread)] == ["user", "assistant"]
    assert (await sdk.threads.get(thread))["status"] == "idle"


async def test_unserved_features_are_refused_and_others_runs_hidden(
    sdk: LangGraphClient, sdk_for: Callable[[str], LangGraphClient], server: Server
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    for unserved in ({"webhook": "https://example.com/hook"}, {"stream_mode": "events"}):
        with pytest.raises(UnprocessableEntityError) as refused:
            await sdk.runs.create(thread, "chat", input=said("x"), **unserved)
        assert refused.value.response.json()["error"] == "NotServed"
    run = await sdk.runs.create(thread, "chat", input=said("mine"))
    await sdk.runs.join(thread, run["run_id"])
    theirs = sdk_for(await token_for(server))
    with pytest.raises(NotFoundError):
        await theirs.runs.get(thread, run["run_id"])
    with pytest.raises(NotFoundError):
        await theirs.runs.list(thread)
    with pytest.raises(NotFoundError):
        await theirs.runs.create(thread, "chat", input=said("in yours"))
    with pytest.raises(NotFoundError):
        await _events(theirs.runs.join_stream(thread, run["run_id"]))
    with pytest.raises(NotFoundError):
        await theirs.runs.cancel(thread, run["run_id"])


async def test_history_pages_back_through_the_states(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "chat", input=said("one"))
    await sdk.runs.wait(thread, "chat", input=said("two"))
    states = await sdk.threads.get_history(thread, limit=100)
    assert [len(s["values"].get("messages", [])) for s in states] == sorted(
        (len(s["values"].get("messages", [])) for s in states), reverse=True
    )
    assert states[0]["values"]["messages"][-1]["content"] == "Reply 2: you said “two”."
    assert states[0]["checkpoint"] == (await sdk.threads.get_state(thread))["checkpoint"]
    older = await sdk.threads.get_history(thread, limit=2, before=states[0]["checkpoint"]["checkpoint_id"])
    assert [s["checkpoint"] for s in older] == [s["checkpoint"] for s in states[1:3]]
    inputs = await sdk.threads.get_history(thread, limit=100, metadata={"source": "input"})
    assert inputs
    assert {s["metadata"]["source"] for s in inputs} == {"input"}
    assert len(inputs) < len(states)
    one = await sdk.threads.get_history(
        thread, checkpoint={"checkpoint_id": states[2]["checkpoint"]["checkpoint_id"]}
    )
    assert [s["checkpoint"] for s in one] == [states[2]["checkpoint"]]


def _first_seen(states: list[dict[str, Any]], message_id: str) -> dict[str, Any]:
    """The oldest state holding the message, as agent-chat-ui finds it to regenerate or edit."""
    return next(s for s in reversed(states) if any(m["id"] == message_id for m in s["values"]["messages"]))


async def test_a_run_from_an_earlier_checkpoint_regenerates_or_edits(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "chat", input=said("one"))
    head = (await sdk.threads.get_state(thread))["checkpoint"]
    # Named as useStream sends it with its fetched history: the thread's head, the same run.
    await sdk.runs.wait(thread, "chat", input=said("two"), checkpoint=head)
    states = await sdk.threads.get_history(thread, limit=100)
    human, reply = states[0]["values"]["messages"][-2:]
    stored = (await api.get(f"/api/v1/conversations/{thread}/messages")).json()["items"]

    # Regenerate: no input, from the state before the reply.
    again = _first_seen(states, reply["id"])["parent_checkpoint"]
    values = await sdk.runs.wait(thread, "chat", input=None, checkpoint=again)
    assert [m["content"] for m in values["messages"]] == [
        "one",
        "Reply 1: you said “one”.",
        "two",
        "Reply 2: you said “two”.",
    ]
    assert values["messages"][-1]["id"] != reply["id"]
    regenerated = (await api.get(f"/api/v1/conversations/{thread}/messages")).json()["items"]
    assert [m["id"] for m in regenerated[:3]] == [m["id"] for m in stored[:3]]
    assert regenerated[3]["id"] != stored[3]["id"]
    assert (
        regenerated[3]["checkpoint_id"]
        == (await sdk.threads.get_state(thread))["checkpoint"]["checkpoint_id"]
    )

    # Edit: a new message in place of "two", from the state before it went in.
    before = _first_seen(states, human["id"])["parent_checkpoint"]
    values = await sdk.runs.wait(thread, "chat", input=said("deux"), checkpoint=before)
    assert [m["content"] for m in values["messages"]][2:] == ["deux", "Reply 2: you said “deux”."]
    assert await _history(api, thread) == [
        ("user", "one"),
        ("assistant", "Reply 1: you said “one”."),
        ("user", "deux"),
        ("assistant", "Reply 2: you said “deux”."),
    ]
    listed = (await api.get("/api/v1/conversations")).json()["items"]
    assert {c["id"]: c["message_count"] for c in listed}[thread] == 4

    # A checkpoint the thread never had: refused, nothing changed.
    with pytest.raises(NotFoundError):
        await sdk.runs.create(thread, "chat", input=said("x"), checkpoint_id=str(uuid.uuid4()))
    assert len(await _history(api, thread)) == 4


async def test_a_run_on_a_branch_the_thread_left_brings_its_history_back(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    """agent-chat-ui's branch switcher, then a message: the run goes on from
    that branch's latest state, and the history follows it there."""
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "chat", input=said("one"))
    await sdk.runs.wait(thread, "chat", input=said("two"))
    left = (await sdk.threads.get_state(thread))["checkpoint"]
    states = await sdk.threads.get_history(thread, limit=100)
    two = states[0]["values"]["messages"][-2]
    # An edit of "two" moves the thread to a branch of its own.
    await sdk.runs.wait(
        thread, "chat", input=said("deux"), checkpoint=_first_seen(states, two["id"])["parent_checkpoint"]
    )
    assert [text for _, text in await _history(api, thread)][2] == "deux"

    values = await sdk.runs.wait(thread, "chat", input=said("three"), checkpoint=left)
    said_then = ["one", "Reply 1: you said “one”.", "two", "Reply 2: you said “two”.", "three"]
    assert [m["content"] for m in values["messages"]] == [*said_then, "Reply 3: you said “three”."]
    assert [text for _, text in await _history(api, thread)] == [m["content"] for m in values["messages"]]
    listed = (await api.get("/api/v1/conversations")).json()["items"]
    assert {c["id"]: c["message_count"] for c in listed}[thread] == 6

    # The messages it brought back are dated on that branch: a regenerate of
    # its last reply keeps every one of them.
    states = await sdk.threads.get_history(thread, limit=100)
    reply = states[0]["values"]["messages"][-1]
    await sdk.runs.wait(
        thread, "chat", input=None, checkpoint=_first_seen(states, reply["id"])["parent_checkpoint"]
    )
    assert [text for _, text in await _history(api, thread)][:5] == said_then
    assert len(await _history(api, thread)) == 6


async def test_a_client_that_leaves_cancels_the_run_when_it_asked_to(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    events = sdk.runs.stream(thread, "chat", input=said(LONG), stream_mode="values", on_disconnect="cancel")
    metadata = await anext(events)
    await events.aclose()  # the client leaves
    run_id = metadata.data["run_id"]
    await until(lambda: _status(sdk, thread, run_id, "interrupted"), "the run cancelled")
    # Its message stays, its unfinished reply does not; the thread takes the next.
    assert [role for role, _ in await _history(api, thread)] == ["user"]
    values = await sdk.runs.wait(thread, "chat", input=said("again"))
    assert values["messages"][-1]["content"] == "Reply 2: you said “again”."


async def test_a_joined_client_that_leaves_cancels_the_run_when_it_asked_to(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    run = await sdk.runs.create(thread, "chat", input=said(LONG))
    joined = sdk.runs.join_stream(thread, run["run_id"], cancel_on_disconnect=True)
    await anext(joined)
    await joined.aclose()  # the client leaves
    await until(lambda: _status(sdk, thread, run["run_id"], "interrupted"), "the run cancelled")
    assert [role for role, _ in await _history(api, thread)] == ["user"]


async def test_subgraph_events_are_named_by_their_namespace(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create(graph_id="research"))["thread_id"]
    parts = sdk.runs.stream(
        thread, "research", input=said("search for tides"), stream_mode=["updates"], stream_subgraphs=True
    )
    names = [name for name, _, _ in await _events(parts)]
    nested = [name for name in names if name.startswith("updates|")]
    assert nested
    assert all(name.split("|")[1].startswith("summarise:") for name in nested)
    assert "updates" in names  # the root graph's own, unnamed
    state = await sdk.threads.get_state(thread, subgraphs=True)
    assert state["values"]["messages"][-1]["type"] == "ai"
    # Without stream_subgraphs, only the root graph's.
    plain = await _events(sdk.runs.stream(thread, "research", input=said("search for waves")))
    assert not [name for name, _, _ in plain if "|" in name]


async def test_copy_and_prune(sdk: LangGraphClient, api: httpx.AsyncClient) -> None:
    source = (await sdk.threads.create(metadata={"kept": "yes"}))["thread_id"]
    await sdk.runs.wait(source, "chat", input=said("one"))
    await sdk.runs.wait(source, "chat", input=said("two"))
    copied = await sdk.threads.copy(source)
    assert copied["thread_id"] != source
    assert copied["metadata"]["kept"] == "yes"
    assert copied["values"] == (await sdk.threads.get(source))["values"]
    assert await _history(api, copied["thread_id"]) == await _history(api, source)
    # The copy goes on by itself.
    values = await sdk.runs.wait(copied["thread_id"], "chat", input=said("three"))
    assert values["messages"][-1]["content"] == "Reply 3: you said “three”."
    assert len((await sdk.threads.get(source))["values"]["messages"]) == 4

    # keep_latest keeps the checkpoints the latest state is rebuilt from (the
    # chat graph's messages are a DeltaChannel): the state stays whole.
    pruned = await sdk.threads.prune([source, "not-a-uuid", str(uuid.uuid4())], strategy="keep_latest")
    assert pruned == {"pruned_count": 1}
    assert len((await sdk.threads.get(source))["values"]["messages"]) == 4
    assert await sdk.threads.prune([copied["thread_id"]]) == {"pruned_count": 1}
    with pytest.raises(NotFoundError):
        await sdk.threads.get(copied["thread_id"])


async def test_a_state_update_writes_a_checkpoint_and_joins_the_history(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "chat", input=said("one"))
    note = {"type": "ai", "content": "An aside the operator added.", "id": str(uuid.uuid4())}
    updated = await sdk.threads.update_state(thread, {"messages": [note]}, as_node="respond")
    state = await sdk.threads.get_state(thread)
    assert state["checkpoint"] == updated["checkpoint"]
    assert state["values"]["messages"][-1]["content"] == "An aside the operator added."
    assert (await _history(api, thread))[-1] == ("assistant", "An aside the operator added.")
    # The next run sees it.
    values = await sdk.runs.wait(thread, "chat", input=said("two"))
    assert len(values["messages"]) == 5
    with pytest.raises(UnprocessableEntityError):
        await sdk.threads.update_state(
            thread, {"messages": []}, checkpoint_id=state["parent_checkpoint"]["checkpoint_id"]
        )
    for values, node in (({"messages": [note]}, "no-such-node"), ([], None)):
        with pytest.raises(UnprocessableEntityError):
            await sdk.threads.update_state(thread, values, as_node=node)
    run_id = await _running(sdk, thread)
    with pytest.raises(ConflictError):
        await sdk.threads.update_state(thread, {"messages": [note]}, as_node="respond")
    await sdk.runs.cancel(thread, run_id, wait=True)


async def test_the_thread_stream_joins_its_active_run(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    assert await _events(await sdk.threads.join_stream(thread)) == []  # idle: nothing to join
    run_id = await _running(sdk, thread)
    joined = await _events(await sdk.threads.join_stream(thread))
    assert joined[0] == ("metadata", {"run_id": run_id, "attempt": 1}, "1")
    assert joined[-1][0] == "end"
    assert joined == await _events(sdk.runs.join_stream(thread, run_id))


async def test_stateless_runs_leave_no_thread_unless_kept(sdk: LangGraphClient) -> None:
    before = await sdk.threads.count()
    values = await sdk.runs.wait(None, "chat", input=said("just once"))
    assert values["messages"][-1]["content"] == "Reply 1: you said “just once”."
    events = await _events(sdk.runs.stream(None, "chat", input=said("and again"), stream_mode="values"))
    assert events[-1][0] == "end"
    assert events[-2][1]["messages"][-1]["content"] == "Reply 1: you said “and again”."
    await until(lambda: _count_is(sdk, before), "the stateless threads deleted")
    kept = await sdk.runs.wait(None, "chat", input=said("keep it"), on_completion="keep")
    assert kept["messages"][-1]["content"] == "Reply 1: you said “keep it”."
    assert await sdk.threads.count() == before + 1


async def _count_is(sdk: LangGraphClient, count: int) -> bool:
    return await sdk.threads.count() == count


async def test_a_command_updates_the_state_and_sends_the_graph_to_a_node(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "chat", input=said("one"))
    update = {"messages": [{"role": "user", "content": "by command"}]}
    values = await sdk.runs.wait(thread, "chat", command={"update": update, "goto": "respond"})
    assert [m["content"] for m in values["messages"][-2:]] == [
        "by command",
        "Reply 2: you said “by command”.",
    ]
    run = (await sdk.runs.list(thread))[0]
    assert (run["status"], run["kwargs"]["goto"]) == ("success", "respond")
    with pytest.raises(UnprocessableEntityError):  # the graph has no such node
        await sdk.runs.create(thread, "chat", command={"goto": "nowhere"})
    # The graph's end is a place to go (agent-chat-ui's "Mark as Resolved" sends it, with `input: {}`).
    ended = await sdk.runs.wait(thread, "chat", input={}, command={"goto": "__end__"})
    assert ended["messages"] == values["messages"]
    assert (await sdk.runs.list(thread))[0]["status"] == "success"


async def test_a_run_stops_before_a_node_and_the_next_goes_on_from_there(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    stopped = await sdk.runs.wait(thread, "chat", input=said("hold on"), interrupt_before=["respond"])
    assert [m["content"] for m in stopped["messages"]] == ["hold on"]
    assert (await sdk.runs.list(thread))[0]["status"] == "interrupted"
    assert (await sdk.threads.get(thread))["status"] == "interrupted"
    assert (await sdk.threads.get_state(thread))["next"] == ["respond"]
    assert await _history(api, thread) == [("user", "hold on")]
    # No input: the graph goes on from the node it stopped before.
    values = await sdk.runs.wait(thread, "chat")
    assert values["messages"][-1]["content"] == "Reply 1: you said “hold on”."
    assert await _history(api, thread) == [("user", "hold on"), ("assistant", "Reply 1: you said “hold on”.")]
    assert (await sdk.threads.get(thread))["status"] == "idle"
    with pytest.raises(UnprocessableEntityError):
        await sdk.runs.create(thread, "chat", input=said("x"), interrupt_after=["nowhere"])


@pytest.mark.parametrize(
    ("refused", "why"),
    [({"context": {"user": "x"}}, "InvalidContext"), ({"after_seconds": 5}, "NotServed")],
)
async def test_what_a_run_cannot_honour_is_refused(
    sdk: LangGraphClient, refused: dict[str, Any], why: str
) -> None:
    # The chat graph's context is the thread and its user: a client's is refused, not ignored.
    thread = (await sdk.threads.create())["thread_id"]
    with pytest.raises(UnprocessableEntityError) as error:
        await sdk.runs.create(thread, "chat", input=said("x"), **refused)
    assert error.value.response.json()["error"] == why
    assert await sdk.runs.list(thread) == []


async def test_stream_modes_may_be_sent_as_stream_modes_and_a_missing_thread_made(
    sdk: LangGraphClient, server: Server, user: str
) -> None:
    thread = str(uuid.uuid4())
    with pytest.raises(NotFoundError):
        await sdk.runs.create(thread, "chat", input=said("x"))
    values = await sdk.runs.wait(thread, "chat", input=said("made for me"), if_not_exists="create")
    assert values["messages"][-1]["content"] == "Reply 1: you said “made for me”."
    assert (await sdk.threads.get(thread))["metadata"]["graph_id"] == "chat"
    headers = {"Authorization": f"Bearer {user}"}
    async with httpx.AsyncClient(base_url=f"{server.url}/langgraph", headers=headers, timeout=60) as client:
        body = {"assistant_id": "chat", "input": said("modes"), "stream_modes": ["updates"]}
        async with client.stream("POST", f"/threads/{thread}/runs/stream", json=body) as response:
            assert response.headers["location"].endswith("/stream")
            assert response.headers["content-location"].startswith(f"/threads/{thread}/runs/")
            text = "".join([chunk async for chunk in response.aiter_text()])
    names = [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")]
    assert names == ["metadata", "updates", "end"]


async def test_a_chat_api_run_joined_here_answers_its_own_graphs_values(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    """A run's graph is its conversation's assistant, whichever API started it."""
    conversation = await research_conversation(api)
    sent = await api.post(f"/api/v1/conversations/{conversation}/messages", json={"content": ASK})
    assert sent.status_code == 200, sent.text
    joined = await sdk.runs.join(conversation, sent.json()["run_id"])
    state = await sdk.threads.get_state(conversation)
    assert {"findings", "summary"} <= joined.keys()
    assert joined["summary"] == state["values"]["summary"]
    assert [i["id"] for i in joined["__interrupt__"]] == [i["id"] for i in state["interrupts"]]
    assert len(joined["__interrupt__"]) == 1


async def test_a_run_reads_back_as_it_was_made(sdk: LangGraphClient) -> None:
    """Made or read, a run names its request `kwargs`, as the Agent Server does."""
    thread = (await sdk.threads.create())["thread_id"]
    made = await sdk.runs.create(thread, "chat", input=said("hi"), metadata={"from": "test"})
    read = await sdk.runs.get(thread, made["run_id"])
    assert "run_kwargs" not in made
    assert made["kwargs"] == read["kwargs"]
    assert made["kwargs"]["metadata"] == {"from": "test"}


async def test_a_state_is_read_at_a_checkpoint_given_whole(sdk: LangGraphClient) -> None:
    """`get_state(thread, checkpoint=...)` posts the checkpoint to `/state/checkpoint`."""
    thread = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(thread, "chat", input=said("one"))
    first = (await sdk.threads.get_state(thread))["checkpoint"]
    await sdk.runs.wait(thread, "chat", input=said("two"))
    then = await sdk.threads.get_state(thread, checkpoint=first)
    assert then["checkpoint"]["checkpoint_id"] == first["checkpoint_id"]
    assert [m["content"] for m in then["values"]["messages"]] == ["one", "Reply 1: you said “one”."]
    same = await sdk.threads.get_state(thread, checkpoint_id=first["checkpoint_id"])
    assert same["values"] == then["values"]
    with pytest.raises(NotFoundError):
        await sdk.threads.get_state(thread, checkpoint={"checkpoint_id": str(uuid.uuid4())})
