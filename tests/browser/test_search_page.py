"""Search on the chat page, in headless Chromium against a real server: type
in the sidebar's box, results come with their snippets, and opening one (by
the keyboard alone) shows its conversation at the message, highlighted,
with newer and older messages a click away."""

import httpx
from playwright.async_api import Page, expect

from tests.browser.test_chat_page import send, sign_up
from tests.server import Server


async def _conversation_with(server: Server, page: Page, title: str, contents: list[str]) -> str:
    token = await page.evaluate("localStorage.getItem('surfsense.token')")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        made = await client.post("/api/v1/conversations", json={"title": title})
        conversation = str(made.json()["id"])
        for content in contents:
            url = f"/api/v1/conversations/{conversation}/messages"
            assert (await client.post(url, json={"content": content})).status_code == 200
    return conversation


async def test_a_result_opens_its_conversation_at_the_message(page: Page, server: Server, email: str) -> None:
    await sign_up(page, email)
    await send(page, "something else entirely", 1)
    fillers = [f"filler {i}" for i in range(14)]
    await _conversation_with(server, page, "Birds", ["the kingfisher dives", *fillers])

    # The keyboard alone: focus the box, type a prefix, arrow down, Enter.
    await page.locator("#search-input").focus()
    await page.keyboard.type("kingf")
    hits = page.locator("#search-results .search-hit")
    await expect(hits).to_have_count(2)  # the message, and the reply that repeats it
    await expect(hits.first.locator("mark")).to_have_text("kingfisher")
    await expect(hits.first.locator(".search-where")).to_contain_text("Birds")
    await page.keyboard.press("ArrowDown")
    await expect(hits.first).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowUp")
    await expect(hits.first).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(hits.nth(1)).to_be_focused()  # the user's message (the reply ranks first, newer)
    await page.keyboard.press("Enter")

    await expect(page.locator("#conversation-title")).to_have_text("Birds")
    found = page.locator("#messages .message.found")
    await expect(found).to_have_count(1)
    await expect(found.locator(".body")).to_have_text("the kingfisher dives")
    await expect(found).to_be_focused()
    await expect(found).to_be_in_viewport()
    # Opened at the first message: nothing older, the rest a click away.
    await expect(page.get_by_role("button", name="Load older messages")).to_be_hidden()
    newer = page.get_by_role("button", name="Load newer messages")
    await expect(newer).to_be_visible()
    await newer.click()
    await expect(page.locator("#messages .message.user .body").last).to_have_text("filler 13")
    await expect(newer).to_be_hidden()


async def test_snippets_are_shown_as_text(page: Page, server: Server, email: str) -> None:
    await sign_up(page, email)
    await _conversation_with(server, page, "Markup", ['<img src=x onerror="window.pwned=1"> pelican'])
    await page.locator("#search-input").fill("pelican")
    await expect(page.locator("#search-results .search-hit")).to_have_count(2)
    assert await page.locator("#search-results img").count() == 0
    assert await page.evaluate("window.pwned") is None
    await page.locator("#search-input").fill("nothingmatchesthis")
    await expect(page.locator("#search-results")).to_contain_text("No messages match.")
