"""A person at a browser: Debian's Chromium driven by Playwright (it never downloads a browser),
on a gateway of its own served over real HTTP, and a check that no request leaves that origin."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Page, async_playwright

from app.main import create_app
from tests.conftest import AGENT_PASSWORD, Deployment, gateway_settings
from tests.support.servers import serve_in_thread

ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium is required: apt-get install -y chromium (scripts/test does)"
    return path


@asynccontextmanager
async def person(
    deployment: Deployment, billing_url: str, width: int = 1200
) -> AsyncIterator[tuple[Page, str]]:
    """A browser page and the gateway's base URL; fails the test if the page asks any other
    origin."""
    app = create_app(gateway_settings(deployment.database_url, billing_url))
    requests_outside: list[str] = []
    with serve_in_thread(app) as base_url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium(), args=CHROMIUM_ARGS
            )
            context = await browser.new_context(
                viewport={"width": width, "height": 900},
                locale="en-GB",
                timezone_id="Europe/Berlin",
            )
            page = await context.new_page()
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith(base_url)
                    else requests_outside.append(request.url)
                ),
            )
            page.set_default_timeout(10_000)
            try:
                yield page, base_url
            finally:
                await browser.close()
    assert requests_outside == []


async def log_in(page: Page, deployment: Deployment, password: str = AGENT_PASSWORD) -> None:
    await page.get_by_label("Email").fill(deployment.agent.email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / name, full_page=full_page)
