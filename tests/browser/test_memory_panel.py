"""The chat agent's memory on the chat page, in headless Chromium against a
real server process: a fact told in one conversation is recalled in another,
shown in the Memory panel, forgotten there, and no longer recalled.

Recall is the store's search: by meaning on the embedded PostgreSQL, by
recency without pgvector (CI's PostgreSQL 15); one memory is found either way.
"""

from playwright.async_api import Page, expect

from tests.browser.test_chat_page import bodies, reply, send, sign_up
from tests.server import Server

TOLD = "remember that my favourite colour is teal"
FACT = "my favourite colour is teal"
ASKED = "what is my favourite colour?"


async def new_conversation(page: Page) -> None:
    await page.get_by_role("button", name="New conversation").click()
    await expect(page.locator("#conversation-title")).to_have_text("New conversation")
    await expect(page.locator("#message-input")).to_be_focused()  # opened: its history is drawn


async def test_a_fact_is_remembered_recalled_elsewhere_shown_and_forgotten(
    page: Page, server: Server, email: str
) -> None:
    await sign_up(page, email)
    memories = page.get_by_role("list", name="Memories")
    await page.locator("#memory-panel summary").click()
    await expect(memories).to_have_text("Nothing yet. Say “remember that …” and the agent will.")

    await send(page, TOLD, 1)
    await expect(bodies(page)).to_have_text([TOLD, f"{reply(1, TOLD)} I will remember that {FACT}."])
    # The panel shows what the reply stored, without a reload.
    await expect(memories.locator(".memory-text")).to_have_text([FACT])

    await new_conversation(page)
    await send(page, ASKED, 1)
    await expect(bodies(page)).to_have_text([ASKED, f"{reply(1, ASKED)} I remember: {FACT}."])

    await page.get_by_label("Search your memories").fill("which colour do I like")
    await expect(memories.locator(".memory-text")).to_have_text([FACT])
    await page.get_by_label("Search your memories").fill("")
    await page.get_by_role("button", name=f"Forget: {FACT}").click()
    await expect(memories).to_have_text("Nothing yet. Say “remember that …” and the agent will.")

    await page.reload()
    # The page has reopened the conversation it was on (before a new one is asked for).
    await expect(bodies(page)).to_have_text([ASKED, f"{reply(1, ASKED)} I remember: {FACT}."])
    await page.locator("#memory-panel summary").click()
    await expect(memories).to_have_text("Nothing yet. Say “remember that …” and the agent will.")
    await new_conversation(page)
    await send(page, ASKED, 1)
    await expect(bodies(page)).to_have_text([ASKED, reply(1, ASKED)])
