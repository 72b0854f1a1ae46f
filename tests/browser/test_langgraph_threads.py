"""One set of conversations for the chat page and the LangGraph Agent Server
API: a thread langgraph-sdk makes and runs is on the page with its messages,
and a conversation made on the page goes on through the SDK."""

# The SDK types its JSON loosely: the test indexes what this server returns.
# mypy: disable-error-code="index,arg-type,dict-item,call-overload"

from langgraph_sdk import get_client
from playwright.async_api import Page, expect

from tests.browser.test_chat_page import bodies, reply, send, sign_up
from tests.server import Server


async def test_threads_and_conversations_are_one(page: Page, server: Server, email: str) -> None:
    await sign_up(page, email)
    await send(page, "made on the page", 1)
    token = await page.evaluate("localStorage.getItem('surfsense.token')")
    sdk = get_client(url=f"{server.url}/langgraph", api_key=token)
    try:
        [mine] = await sdk.threads.search()
        # The page's conversation, continued through the SDK.
        values = await sdk.runs.wait(
            mine["thread_id"], "chat", input={"messages": [{"role": "user", "content": "via the SDK"}]}
        )
        assert values["messages"][-1]["content"] == reply(2, "via the SDK")

        made = await sdk.threads.create(metadata={"from": "sdk"})
        await sdk.runs.wait(
            made["thread_id"], "chat", input={"messages": [{"role": "user", "content": "made by the SDK"}]}
        )
    finally:
        await sdk.aclose()

    await page.reload()
    await expect(page.locator("#conversation-list > li")).to_have_count(2)
    # The SDK's thread, opened on the page: its title and messages.
    await page.locator("#conversation-list > li .open", has_text="made by the SDK").click()
    await expect(bodies(page)).to_have_text(["made by the SDK", reply(1, "made by the SDK")])
    # The page's conversation holds the turn the SDK ran on it.
    await page.locator("#conversation-list > li .open", has_text="made on the page").click()
    await expect(bodies(page)).to_have_text(
        ["made on the page", reply(1, "made on the page"), "via the SDK", reply(2, "via the SDK")]
    )
