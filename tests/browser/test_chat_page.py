"""The chat page at `/` in headless Chromium against a real server process.

A user signs up, watches replies stream in token by token, reloads, restarts
the server, and finds the conversation as it was; then gives feedback, forks,
deletes and archives. Also: a reload mid-answer, the keyboard alone, and
what the page says when the server is down or the token is no good.
"""

from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.server import Server

PASSWORD = "a long enough password"

WATCH_REPLY = """
window.seen = [];
new MutationObserver(() => {
  const replies = document.querySelectorAll("#messages .message.assistant .body");
  if (replies.length) window.seen.push(replies[replies.length - 1].textContent);
}).observe(document.getElementById("messages"), { subtree: true, childList: true, characterData: true });
"""


def reply(n: int, text: str) -> str:
    return f"Reply {n}: you said “{text}”."


async def sign_up(page: Page, email: str) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="No account yet? Sign up").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up", exact=True).click()
    await expect(page.locator("#me")).to_have_text(email)


async def send(page: Page, text: str, replies: int) -> None:
    """Send a message with Enter; wait until `replies` answers are complete."""
    await page.locator("#message-input").fill(text)
    await page.locator("#message-input").press("Enter")
    await expect(page.locator('#messages .message.assistant[data-status="complete"]')).to_have_count(replies)


def bodies(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#messages .message .body")


async def test_a_conversation_survives_reload_and_restart(
    page: Page, server: Server, email: str, artifacts: Path
) -> None:
    await sign_up(page, email)
    first, second = "What makes chat memory durable?", "And does it survive a restart?"
    await page.evaluate(WATCH_REPLY)
    await send(page, first, 1)
    # The first message named the conversation.
    await expect(page.locator("#conversation-title")).to_have_text(first)
    # The reply grew token by token: the page showed several ever-longer prefixes of it.
    seen = await page.evaluate("window.seen")
    answer = reply(1, first)
    partial = {text for text in seen if text and text != answer}
    assert len(partial) >= 3, seen
    assert all(answer.startswith(text) for text in partial)
    await send(page, second, 2)
    conversation = [first, answer, second, reply(2, second)]
    await expect(bodies(page)).to_have_text(conversation)

    await page.reload()
    await expect(bodies(page)).to_have_text(conversation)

    server.stop()
    await server.start()
    await page.reload()
    await expect(bodies(page)).to_have_text(conversation)
    await expect(page.locator("#conversation-title")).to_have_text(first)
    await page.screenshot(path=artifacts / "chat-restored-after-restart.png", full_page=True)

    good = page.locator("#messages .message.assistant").first.get_by_role("button", name="Good answer")
    await good.click()
    await expect(good).to_have_attribute("aria-pressed", "true")
    await page.reload()
    await expect(good).to_have_attribute("aria-pressed", "true")

    # Fork from the first answer: a new conversation with the history up to it,
    # whose agent carries on from there.
    await (
        page.locator("#messages .message.assistant")
        .first.get_by_role("button", name="Fork the conversation from this message")
        .click()
    )
    await expect(bodies(page)).to_have_text(conversation[:2])
    await expect(page.locator("#conversation-list > li")).to_have_count(2)
    # Marked as a fork in the list; its copied answer takes feedback of its own.
    await expect(page.locator("#conversation-list > li.current .open")).to_have_text(f"Fork · {first}")
    forked_good = page.locator("#messages .message.assistant").first.get_by_role("button", name="Good answer")
    await expect(forked_good).to_have_attribute("aria-pressed", "false")
    await forked_good.click()
    await expect(forked_good).to_have_attribute("aria-pressed", "true")
    await send(page, "A different direction", 2)
    await expect(bodies(page).last).to_have_text(reply(2, "A different direction"))

    remove = page.locator("#conversation-list > li.current button.danger")
    await remove.click()
    await expect(remove).to_have_text("Really delete?")
    await remove.click()
    await expect(page.locator("#conversation-list > li")).to_have_count(1)
    await expect(bodies(page)).to_have_count(0)

    await page.locator("#conversation-list > li").get_by_role("button", name=f"Archive {first}").click()
    await expect(page.locator("#conversation-list > li")).to_have_count(0)
    await page.get_by_label("Show archived").check()
    await expect(page.locator("#conversation-list > li .open")).to_have_text([first])


async def test_a_reload_mid_answer_shows_the_reply_in_progress_then_complete(page: Page, email: str) -> None:
    await sign_up(page, email)
    question = " ".join(f"word{i}" for i in range(80))
    await page.locator("#message-input").fill(question)
    await page.locator("#message-input").press("Enter")
    await expect(page.locator("#messages .message.assistant .body")).not_to_have_text("")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.reload()
    in_progress = page.locator('#messages .message.assistant[data-status="streaming"]')
    await expect(in_progress).to_have_count(1)
    await expect(in_progress).to_have_attribute("aria-busy", "true")
    assert reply(1, question).startswith(await in_progress.locator(".body").text_content() or "")
    await expect(page.locator('#messages .message.assistant[data-status="complete"]')).to_have_count(1)
    # Exactly the two stored messages: no ghost, no duplicate.
    await expect(bodies(page)).to_have_text([question, reply(1, question)])
    # It went on by joining the run's stream, not by polling the history.
    assert sum("/stream?stream=ui" in url for url in requests) == 1
    assert sum("/messages?" in url for url in requests) == 2  # on load, and once the run ended


async def test_the_keyboard_alone_signs_up_and_chats(page: Page, email: str) -> None:
    # A stale or mistyped address names no conversation: it is dropped quietly.
    await page.goto("/#not-a-conversation")
    focused = "document.activeElement.id"
    assert await page.evaluate(focused) == "email"
    for expected in ("password", "auth-submit", "auth-switch"):
        await page.keyboard.press("Tab")
        assert await page.evaluate(focused) == expected
    await page.keyboard.press("Enter")
    await expect(page.locator("#auth-title")).to_have_text("Sign up")
    for _ in range(3):
        await page.keyboard.press("Shift+Tab")
    assert await page.evaluate(focused) == "email"
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.locator("#me")).to_have_text(email)
    await expect(page.locator("#message-input")).to_be_focused()
    await expect(page.locator("#banner")).to_be_hidden()
    assert "#" not in page.url
    await page.keyboard.type("typed, not clicked")
    await page.keyboard.press("Enter")
    await expect(bodies(page)).to_have_text(["typed, not clicked", reply(1, "typed, not clicked")])
    # Once the reply is in, the box has the focus back and Send is enabled again.
    await expect(page.locator("#send")).to_be_enabled()
    await expect(page.locator("#message-input")).to_be_focused()
    await page.keyboard.press("Tab")
    assert await page.evaluate(focused) == "send"


async def test_the_page_says_when_the_server_is_down_or_the_token_is_no_good(
    page: Page, server: Server, email: str
) -> None:
    await sign_up(page, email)
    await send(page, "hello", 1)
    server.stop()
    await send_while_down(page, "are you there?")
    banner = page.get_by_role("alert").filter(has_text="Cannot reach the server")
    await expect(banner).to_be_visible()
    # Nothing typed is lost.
    await expect(page.locator("#message-input")).to_have_value("are you there?")

    await server.start()
    await page.get_by_role("button", name="Try again").click()
    await expect(banner).to_be_hidden()
    await expect(bodies(page)).to_have_text(["hello", reply(1, "hello")])
    await page.locator("#message-input").press("Enter")
    await expect(bodies(page).last).to_have_text(reply(2, "are you there?"))

    await page.evaluate("localStorage.setItem('surfsense.token', 'expired.or.revoked')")
    await page.reload()
    await expect(page.locator("#auth-view")).to_be_visible()
    await expect(page.locator("#auth-error")).to_have_text("Your session has expired. Please log in again.")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in", exact=True).click()
    await expect(page.locator("#auth-error")).to_have_text("Wrong email or password.")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in", exact=True).click()
    await expect(bodies(page)).to_have_count(4)


async def send_while_down(page: Page, text: str) -> None:
    await page.locator("#message-input").fill(text)
    await page.locator("#message-input").press("Enter")


async def test_load_older_pages_back_through_a_long_history(page: Page, server: Server, email: str) -> None:
    await sign_up(page, email)
    await send(page, "message 0", 1)
    conversation = page.url.split("#", 1)[1]
    token = await page.evaluate("localStorage.getItem('surfsense.token')")
    headers = {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        for i in range(1, 11):
            url = f"/api/v1/conversations/{conversation}/messages"
            assert (await client.post(url, json={"content": f"message {i}"})).status_code == 200

    await page.reload()
    await expect(bodies(page)).to_have_count(20)
    await expect(bodies(page).first).to_have_text("message 1")
    await page.get_by_role("button", name="Load older messages").click()
    await expect(bodies(page)).to_have_count(22)
    await expect(bodies(page).first).to_have_text("message 0")
    await expect(page.get_by_role("button", name="Load older messages")).to_be_hidden()
