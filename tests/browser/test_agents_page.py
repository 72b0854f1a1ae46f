"""The chat page with the research agent: picked on "New conversation", its tool
calls collapsed under the messages that made them, and an approval card (for
LangChain's approval request) that comes back after a reload and resumes the
run when approved, with the note edited, or rejected with a reason."""

import asyncio
from pathlib import Path

from playwright.async_api import Page, Request, Route, expect

from tests.browser.test_chat_page import send, sign_up
from tests.research_client import ASK

NOTHING = "Nothing in your other conversations mentions it."


async def test_approve_an_interrupt_after_a_reload(page: Page, email: str, artifacts: Path) -> None:
    await sign_up(page, email)
    await send(page, "durable memory matters", 1)  # something for the research agent to find

    picker = page.get_by_label("Assistant")
    await expect(picker.locator("option")).to_have_text(["Chat", "Research"])
    await picker.select_option(label="Research")
    await page.get_by_role("button", name="New conversation").click()
    await expect(page.locator("#conversation-assistant")).to_have_text("with Research")
    await page.locator("#message-input").fill(ASK)
    await page.locator("#message-input").press("Enter")

    card = page.get_by_role("region", name="Approval needed")
    await expect(card).to_be_visible()
    await expect(card.locator(".question")).to_contain_text("Save this note?")
    await expect(card.get_by_role("button", name="Approve")).to_be_enabled()

    await page.reload()
    card = page.get_by_role("region", name="Approval needed")
    await expect(card.get_by_role("button", name="Approve")).to_be_enabled()
    # The search is collapsed under the message that called it: name, arguments, result.
    search = page.locator("details.tool-call").filter(has_text="Tool: search_conversations")
    await expect(search).to_have_count(1)
    await expect(search.locator(".args")).not_to_be_visible()
    await search.locator("summary").click()
    await expect(search.locator(".args")).to_contain_text('"query": "durable memory"')
    await expect(search.locator(".result")).to_contain_text("durable memory matters")

    # The note is edited in the card, then approved: the agent saves the edited note.
    await card.get_by_label("save_note: text").fill("durable memory, in my words")
    await card.get_by_role("button", name="Approve").click()

    answer = page.locator('#messages .message.assistant[data-status="complete"] .body').last
    await expect(answer).to_contain_text("I searched your other conversations: ")
    await expect(answer).to_contain_text("Saved note ")
    await expect(answer).to_contain_text("durable memory, in my words")
    await expect(page.locator(".approval .answer")).to_have_text("Approved with edits")
    await expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    saved = page.locator("details.tool-call").filter(has_text="Tool: save_note")
    await saved.locator("summary").click()
    await expect(saved.locator(".result")).to_contain_text("Saved note ")
    await page.screenshot(path=artifacts / "research-approved.png", full_page=True)

    await page.reload()
    await expect(page.locator(".approval .answer")).to_have_text("Approved with edits")
    await expect(
        page.locator('#messages .message.assistant[data-status="complete"] .body').last
    ).to_contain_text("Saved note ")
    assert NOTHING not in (await answer.text_content() or "")


async def test_reject_an_interrupt_with_a_reason(page: Page, email: str) -> None:
    await sign_up(page, email)
    await page.get_by_label("Assistant").select_option(label="Research")
    await page.get_by_role("button", name="New conversation").click()
    await expect(page.locator("#conversation-assistant")).to_have_text("with Research")
    await expect(page.locator("#message-input")).to_be_focused()  # opened: its history is drawn

    # The list is drawn again once the stream that brought the card ends. That
    # redraw is held until the reason is typed: the card it draws keeps the text
    # (a loaded machine once typed into the streamed card and clicked the redrawn one).
    sent = asyncio.Event()
    typed = asyncio.Event()

    def on_request(request: Request) -> None:
        if request.method == "POST":
            sent.set()

    page.on("request", on_request)

    async def hold_redraw(route: Route) -> None:
        if sent.is_set():
            await typed.wait()
        await route.continue_()

    await page.route(lambda url: "/messages?limit=" in url, hold_redraw)
    await page.locator("#message-input").fill("save a note that tides turn")
    await page.locator("#message-input").press("Enter")

    card = page.get_by_role("region", name="Approval needed")
    await card.get_by_label("Reason, if you reject (the agent reads it)").fill("not now")
    async with page.expect_request(lambda request: "/api/v1/conversations?" in request.url):
        typed.set()  # the conversations list is read after the redraw
    await expect(card.get_by_label("Reason, if you reject (the agent reads it)")).to_have_value("not now")
    await card.get_by_role("button", name="Reject").click()

    answer = page.locator('#messages .message.assistant[data-status="complete"] .body').last
    await expect(answer).to_contain_text("I did not run save_note. The user rejected it: not now")
    await expect(page.locator(".approval .answer")).to_have_text("Rejected: not now")
    await expect(page.get_by_role("button", name="Reject")).to_have_count(0)
