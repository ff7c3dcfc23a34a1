"""A person in a real browser (Debian's Chromium, driven by Playwright): sent to the login page,
logs in, lands in GraphiQL, served offline, and runs its default query against a seeded world."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.async_api import async_playwright, expect

from app.main import create_app
from app.world.seeder import SeedSummary
from tests.conftest import AGENT_PASSWORD, Deployment, gateway_settings
from tests.support.billing_admin import BillingAdmin
from tests.support.servers import serve_in_thread

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
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


async def test_graphiql_runs_its_default_query(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin, billing_url: str, backend: str
) -> None:
    deployment, _ = world
    app = create_app(gateway_settings(deployment.database_url, billing_url))
    requests_outside: list[str] = []

    with serve_in_thread(app) as base_url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium(), args=CHROMIUM_ARGS
            )
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith(base_url)
                    else requests_outside.append(request.url)
                ),
            )
            page.set_default_timeout(10_000)
            await page.goto(f"{base_url}/graphql")
            await expect(page).to_have_url(f"{base_url}/login?next=/graphql")
            await page.get_by_label("Email").fill(deployment.agent.email)
            await page.get_by_label("Password").fill("wrong")
            await page.get_by_role("button", name="Log in").click()
            await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
            await page.get_by_label("Password").fill(AGENT_PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await expect(page).to_have_url(f"{base_url}/graphql")
            await page.locator(".graphiql-execute-button").click()
            response = page.locator(".graphiql-response")
            # The editor renders only the lines in view: the top of the answer.
            await expect(response).to_contain_text('"isComplete": true')
            await expect(response).to_contain_text('"nodes": [')
            await expect(response).to_contain_text('"__typename": "')
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=ARTIFACTS / f"graphiql-{backend}.png")
            await browser.close()

    assert requests_outside == []
