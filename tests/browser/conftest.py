"""A real server and Debian's headless Chromium, driven by Playwright.

Playwright's own browser download does not work offline, so the tests use
/usr/bin/chromium (`.ci/run` installs it). Without it they are skipped, unless
REQUIRE_CLIENT_TESTS=1, as CI sets, makes that a failure.
"""

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import User
from tests.client_tools import missing
from tests.server import ROOT, Server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Chromium's calls home are refused on a closed network, many at a time.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOMAIN = "browser.example.com"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "test-artifacts"))


@pytest.fixture(scope="session")
def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        missing(f"Chromium at {CHROMIUM} (Debian's chromium package; .ci/run installs it)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # A token every 40 ms: slow enough to watch a reply stream in.
    server = Server(database_url, tmp_path, LOCAL_TOKEN_DELAY="0.04")
    yield server
    server.stop()


@pytest.fixture
async def page(browser: Browser, server: Server, engine: AsyncEngine) -> AsyncIterator[Page]:
    await server.start()
    context = await browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 760})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()
    async with engine.begin() as conn:
        await conn.execute(delete(User).where(User.email.like(f"%@{DOMAIN}")))


@pytest.fixture
def email() -> str:
    return f"{uuid.uuid4().hex[:10]}@{DOMAIN}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
