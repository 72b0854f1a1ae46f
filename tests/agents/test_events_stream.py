"""`stream_mode="events"`: LangChain's `astream_events` (v2) of a run, as the
Agent Server streams them, stored with the run's other events, so a join
after its end, or from `Last-Event-ID`, gives the same."""

# The SDK types its JSON loosely: the tests index what this server returns.
# mypy: disable-error-code="index,call-overload,typeddict-item"

from langgraph_sdk.client import LangGraphClient

from tests.agents.conftest import said
from tests.openai_compatible import OpenAICompatible


async def test_a_runs_events_stream_live_and_again_from_any_event(
    sdk: LangGraphClient, model_server: OpenAICompatible
) -> None:
    thread = (await sdk.threads.create(graph_id="react"))["thread_id"]
    live = [
        (part.event, part.data, part.id)
        async for part in sdk.runs.stream(
            thread, "react", input=said("ahoy"), stream_mode=["events", "values"]
        )
    ]
    events = [data for name, data, _ in live if name == "events"]
    kinds = {event["event"] for event in events}
    assert {"on_chain_start", "on_chat_model_stream", "on_tool_start", "on_tool_end", "on_chain_end"} <= kinds
    [shouted] = [e for e in events if e["event"] == "on_tool_end"]
    assert shouted["name"] == "shout"
    assert shouted["data"]["output"]["content"] == "AHOY"
    # The graph's own modes go on beside them, once each, as without events.
    values = [data for name, data, _ in live if name == "values"]
    assert values[-1]["messages"][-1]["content"] == "Done. AHOY"
    assert [name for name, _, _ in live][-1] == "end"

    run_id = live[0][1]["run_id"]
    joined = [(p.event, p.data, p.id) async for p in sdk.runs.join_stream(thread, run_id)]
    assert joined == live
    middle = len(live) // 2
    rest = [
        (p.event, p.data, p.id)
        async for p in sdk.runs.join_stream(thread, run_id, last_event_id=live[middle][2])
    ]
    assert rest == live[middle + 1 :]
