"""Content blocks through the Agent Server API, as agent-chat-ui sends an
upload: the message intact in the thread's state, its history and the chat
API's history of the same conversation; a message too large is a 413."""

# The SDK types its JSON loosely: the test indexes what this server returns.
# mypy: disable-error-code="index,call-overload,arg-type,typeddict-item,dict-item"

import uuid

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from app.config import get_persistence_config
from tests.content_blocks import image, pdf, with_text


async def test_a_message_with_an_image_and_a_file_is_kept_as_sent(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    content = with_text("What does this show?", image(), pdf())
    sent = {"id": str(uuid.uuid4()), "type": "human", "content": content}
    values = await sdk.runs.wait(thread, "chat", input={"messages": [sent]})
    reply = "Reply 1: you said “What does this show?”."
    assert [m["content"] for m in values["messages"]] == [content, reply]
    state = await sdk.threads.get_state(thread)
    assert state["values"]["messages"][0]["content"] == content
    [latest, *_] = await sdk.threads.get_history(thread)
    assert latest["values"]["messages"][0] == {**state["values"]["messages"][0], "id": sent["id"]}
    history = (await api.get(f"/api/v1/conversations/{thread}/messages")).json()["items"]
    assert [m["content"] for m in history] == [content, reply]
    conversation = (await api.get(f"/api/v1/conversations/{thread}")).json()
    assert conversation["title"] == "What does this show?"
    assert conversation["last_message_preview"] == reply


async def test_a_message_over_its_size_in_bytes_is_refused_with_413(
    sdk: LangGraphClient, api: httpx.AsyncClient
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    big = pdf(data="A" * get_persistence_config().max_message_bytes)
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await sdk.runs.wait(thread, "chat", input={"messages": [{"role": "user", "content": [big]}]})
    assert refused.value.response.status_code == 413
    assert (await api.get(f"/api/v1/conversations/{thread}/messages")).json()["items"] == []
    assert await sdk.runs.list(thread) == []
