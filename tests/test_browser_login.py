"""A person in a real browser follows a phishing link to the login page: after logging in they
stay on the gateway, whatever `next` the link carried."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import Deployment
from tests.support.browser import log_in, person


@pytest.mark.parametrize(
    "target", ["/%09/evil.example/phish", "/%5C%5Cevil.example", "//evil.example/phish"]
)
async def test_a_login_link_cannot_lead_off_the_site(
    scratch: Deployment, billing_url: str, target: str
) -> None:
    async with person(scratch, billing_url) as (page, base_url):
        await page.goto(f"{base_url}/login?next={target}")
        await expect(page).to_have_url(f"{base_url}/login")
        await log_in(page, scratch)
        await expect(page).to_have_url(f"{base_url}/")
        await expect(page.locator("#viewer")).to_have_text(scratch.agent.name)
