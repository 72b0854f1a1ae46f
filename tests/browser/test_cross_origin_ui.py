"""A chat UI on another origin, in Chromium, as agent-chat-ui is: the
useStream hook of @langchain/langgraph-sdk (bundled for the browser) talks to
the Agent Server API with its key in `X-Api-Key`, so every request is a CORS
one with a preflight, and the hook reads the run's `Content-Location` to
rejoin it after a reload."""

import json
import shutil
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Locator, Page, Request, expect

from tests.ai_sdk.node import HERE as JS_CLIENTS
from tests.browser.conftest import DOMAIN
from tests.client_tools import missing
from tests.research_client import APPROVE, ASK, reject
from tests.server import Server

ESBUILD = JS_CLIENTS / "node_modules" / ".bin" / "esbuild"
PAGE = '<!doctype html><html><body><div id="root"></div><script src="chat.js"></script></body></html>'
LONG = "word " * 150


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def ui_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The chat UI, bundled and served from an origin of its own."""
    if shutil.which("node") is None or not ESBUILD.exists():
        missing("Node.js and the JS clients (`npm ci --prefix tests/ai_sdk`, which `make test` runs)")
    root = tmp_path_factory.mktemp("ui")
    (root / "index.html").write_text(PAGE)
    bundle = [str(ESBUILD), "browser/chat.mjs", "--bundle", "--format=iife", f"--outfile={root / 'chat.js'}"]
    subprocess.run(bundle, cwd=JS_CLIENTS, check=True, capture_output=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    serving = threading.Thread(target=httpd.serve_forever, name="ui-origin", daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        serving.join()


async def _token(server: Server) -> str:
    email, password = f"{uuid.uuid4().hex[:10]}@{DOMAIN}", "a long enough password"
    async with httpx.AsyncClient(base_url=server.url) as client:
        registered = await client.post("/auth/register", json={"email": email, "password": password})
        assert registered.status_code == 201, registered.text
        login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    return str(login.json()["access_token"])


async def _open(page: Page, server: Server, ui_origin: str, **options: str) -> list[str]:
    """The UI open on an assistant (`chat` unless named); the requests of it
    that failed, a CORS refusal among them, listed as they fail."""
    failed: list[str] = []

    def note(request: Request) -> None:
        # A stream the page itself stops or leaves is aborted by design.
        if request.failure != "net::ERR_ABORTED":
            failed.append(f"{request.method} {request.url}: {request.failure}")

    page.on("requestfailed", note)
    given = {"api": f"{server.url}/langgraph", "key": await _token(server), "assistant": "chat", **options}
    await page.goto(f"{ui_origin}/index.html?{urlencode(given)}")
    await expect(page.locator("#threads")).to_have_text("0")
    return failed


@pytest.fixture
async def chat(page: Page, server: Server, ui_origin: str) -> AsyncIterator[Page]:
    failed = await _open(page, server, ui_origin)
    yield page
    assert failed == []


def messages(page: Page) -> Locator:
    return page.locator("#messages > li")


async def _submit(page: Page, text: str) -> None:
    await page.evaluate("t => window.chat.send({messages: [{type: 'human', content: t}]})", text)


async def test_a_page_on_another_origin_chats_and_reloads_its_thread(chat: Page) -> None:
    await _submit(chat, "hello from a page")
    await expect(messages(chat)).to_have_text(["hello from a page", "Reply 1: you said “hello from a page”."])
    await expect(chat.locator("main")).to_have_attribute("data-loading", "false")
    await chat.reload()  # the thread is in the address: its history comes back
    await expect(messages(chat)).to_have_text(["hello from a page", "Reply 1: you said “hello from a page”."])
    await expect(chat.locator("#threads")).to_have_text("1")


async def test_stop_then_send_answers_the_new_message(chat: Page) -> None:
    await _submit(chat, LONG)
    await expect(messages(chat).nth(1)).to_contain_text("Reply 1")
    await chat.evaluate("window.chat.stream.stop()")
    await _submit(chat, "after stop")
    await expect(messages(chat).last).to_have_text("Reply 2: you said “after stop”.", timeout=60_000)
    await expect(messages(chat)).to_have_count(4)
    await expect(chat.locator("#error")).to_have_count(0)


async def test_a_reload_mid_reply_rejoins_the_run(page: Page, server: Server, ui_origin: str) -> None:
    failed = await _open(page, server, ui_origin, rejoin="1")
    chat = page
    await _submit(chat, LONG)
    await expect(messages(chat).nth(1)).to_contain_text("Reply 1")
    # The hook kept the run's id from its Content-Location: a new page rejoins it.
    await chat.reload()
    await expect(messages(chat).nth(1)).to_contain_text("”.", timeout=60_000)
    await expect(messages(chat)).to_have_count(2)
    await expect(chat.locator("#error")).to_have_count(0)
    assert failed == []


@pytest.mark.parametrize(("decision", "result"), [(APPROVE, "Saved note "), (reject("not now"), "not now")])
async def test_the_approval_is_answered_in_the_standard_format(
    page: Page, server: Server, ui_origin: str, decision: dict[str, Any], result: str
) -> None:
    """The research agent asks as LangChain's HumanInTheLoopMiddleware does;
    the page answers as agent-chat-ui's controls do: a Command resume beside an empty input."""
    failed = await _open(page, server, ui_origin, assistant="research")
    await _submit(page, ASK)
    asked = json.loads(await page.locator("#interrupt").text_content() or "null")
    assert [a["name"] for a in asked["action_requests"]] == ["save_note"]
    assert asked["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    await page.evaluate("d => window.chat.send({}, {command: {resume: d}})", decision)
    await expect(page.locator("#interrupt")).to_have_count(0)
    await expect(page.locator("#messages > li[data-type=tool]").last).to_contain_text(result)
    await expect(page.locator("main")).to_have_attribute("data-loading", "false")
    await expect(page.locator("#error")).to_have_count(0)
    assert failed == []
