"""A message with content blocks on the chat page: its text as text (markup
shown, never run), an image as an image, a file by its name."""

# The SDK types its JSON loosely.
# mypy: disable-error-code="arg-type,dict-item"

from langgraph_sdk import get_client
from playwright.async_api import Page, expect

from tests.browser.test_chat_page import bodies, reply, sign_up
from tests.content_blocks import image, pdf, png, with_text
from tests.server import Server

MARKUP = 'Look <img src=x onerror="window.injected=1"><b>here</b>'


async def test_an_image_shows_as_an_image_and_a_file_by_name(page: Page, server: Server, email: str) -> None:
    await sign_up(page, email)
    token = await page.evaluate("localStorage.getItem('surfsense.token')")
    sdk = get_client(url=f"{server.url}/langgraph", api_key=token)
    try:
        thread = (await sdk.threads.create())["thread_id"]
        content = with_text(MARKUP, image("cat.png", png(4, 3)), pdf("report.pdf"))
        await sdk.runs.wait(thread, "chat", input={"messages": [{"type": "human", "content": content}]})
    finally:
        await sdk.aclose()

    await page.reload()
    await page.locator("#conversation-list > li .open").first.click()
    await expect(bodies(page)).to_have_text([f"{MARKUP}report.pdf", reply(1, MARKUP)])
    shown = bodies(page).first.locator("img.attachment")
    await expect(shown).to_have_attribute("alt", "cat.png")
    # Decoded, so the page's policy let the data: image load.
    assert await shown.evaluate("img => img.complete && img.naturalWidth") == 4
    assert await bodies(page).first.locator("b").count() == 0
    assert await page.evaluate("window.injected") is None
