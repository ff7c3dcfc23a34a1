"""A person in a real browser is sent to the login page, logs in, lands in GraphiQL (served
offline by the gateway) and runs its default query against a seeded world."""

from __future__ import annotations

from playwright.async_api import expect

from app.world.seeder import SeedSummary
from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.browser import log_in, person, screenshot


async def test_graphiql_runs_its_default_query(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin, billing_url: str, backend: str
) -> None:
    deployment, _ = world
    async with person(deployment, billing_url, width=1400) as (page, base_url):
        await page.goto(f"{base_url}/graphql")
        await expect(page).to_have_url(f"{base_url}/login?next=/graphql")
        await log_in(page, deployment, password="wrong")
        await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
        await log_in(page, deployment)
        await expect(page).to_have_url(f"{base_url}/graphql")
        await page.locator(".graphiql-execute-button").click()
        response = page.locator(".graphiql-response")
        # The editor renders only the lines in view: the top of the answer.
        await expect(response).to_contain_text('"isComplete": true')
        await expect(response).to_contain_text('"nodes": [')
        await expect(response).to_contain_text('"__typename": "')
        await screenshot(page, f"graphiql-{backend}.png")
