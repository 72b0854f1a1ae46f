"""The chat page with the user's own assistants: offered beside the graphs
on "New conversation", and a conversation made with one says so and is
answered with its configuration."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.test_chat_page import send, sign_up
from tests.server import Server

PROJECT = Path(__file__).parents[1] / "langgraph_api" / "assistants_project" / "langgraph.json"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """The page's server, serving the graphs of the assistants test project."""
    server = Server(database_url, tmp_path, LANGGRAPH_JSON=str(PROJECT))
    yield server
    server.stop()


async def test_pick_one_of_your_assistants_for_a_new_conversation(
    page: Page, server: Server, email: str, artifacts: Path
) -> None:
    await sign_up(page, email)
    token = await page.evaluate("localStorage.getItem('surfsense.token')")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{server.url}/langgraph", headers=headers, timeout=30) as client:
        made = await client.post(
            "/assistants", json={"graph_id": "persona", "name": "Ada", "context": {"voice": "Ada"}}
        )
    assert made.status_code == 200, made.text
    aid = made.json()["assistant_id"]

    await page.reload()
    picker = page.get_by_label("Assistant")
    await expect(picker.locator('optgroup[label="Your assistants"] option')).to_have_text(["Ada"])
    await expect(picker.locator('optgroup[label="Graphs"] option[value="persona"]')).to_have_count(1)
    await picker.select_option(label="Ada")
    await page.get_by_role("button", name="New conversation").click()
    await expect(page.locator("#conversation-assistant")).to_have_text("with Ada (persona)")
    await send(page, "hello?", 1)
    # The persona graph speaks as its context says: the assistant's, not the message's.
    await expect(page.locator('#messages .message.assistant[data-status="complete"] .body')).to_have_text(
        "Ada says hello"
    )
    conversation = page.url.split("#", 1)[1]
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        kept = (await client.get(f"/api/v1/conversations/{conversation}")).json()
    assert (kept["assistant_id"], kept["stored_assistant_id"]) == ("persona", aid)

    # Reopened after a reload, it still says which assistant it uses.
    await page.reload()
    await expect(page.locator("#conversation-assistant")).to_have_text("with Ada (persona)")
    await page.screenshot(path=artifacts / "conversation-assistant.png", full_page=True)
