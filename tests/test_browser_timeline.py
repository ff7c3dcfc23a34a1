"""A person in a real browser (Debian's Chromium, driven by Playwright) reads a ticket's timeline
at `/`: sent to the login page and back, the first page of the history, the next one when they
scroll to the bottom, and the banner while billing is down — all served by the gateway itself."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator, expect

from app.world.seeder import SeedSummary
from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.browser import log_in, person, screenshot
from tests.support.graphql import data_of

PAGE_SIZE = 20  # the page's `history(first: 20)`

TOTALS = "query($ids: [Int!]!) { tickets(ids: $ids) { id history(first: 0) { totalCount } } }"
HISTORY = """
query($id: Int!) {
  ticket(id: $id) {
    history(first: 1000) {
      totalCount openedTicketCount isComplete
      warnings { message }
      nodes { id createdAt }
    }
  }
}"""


async def longest_history(deployment: Deployment, summary: SeedSummary) -> int:
    """The seeded ticket with the longest history (the lowest id among equals)."""
    totals: dict[int, int] = {}
    ids = list(range(1, summary.tickets + 1))
    for start in range(0, len(ids), 100):
        data = await data_of(deployment.client, TOTALS, {"ids": ids[start : start + 100]})
        totals |= {ticket["id"]: ticket["history"]["totalCount"] for ticket in data["tickets"]}
    ticket_id = max(totals, key=lambda found: (totals[found], -found))
    assert totals[ticket_id] > PAGE_SIZE, "no seeded history is longer than a page"
    return ticket_id


async def history_of(deployment: Deployment, ticket_id: int) -> dict[str, Any]:
    """The whole history as the API gives it right now."""
    history: dict[str, Any] = (await data_of(deployment.client, HISTORY, {"id": ticket_id}))[
        "ticket"
    ]["history"]
    return history


async def shown(entries: Locator) -> list[tuple[str, str]]:
    """(id, time) of every entry on the page, top to bottom."""
    found: list[list[str]] = await entries.evaluate_all(
        "entries => entries.map(e => [e.dataset.id, e.querySelector('time').dateTime])"
    )
    return [(entry_id, created_at) for entry_id, created_at in found]


def items(history: dict[str, Any]) -> list[tuple[str, str]]:
    return [(node["id"], node["createdAt"]) for node in history["nodes"]]


async def test_a_person_scrolls_through_a_ticket_timeline(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin, billing_url: str, backend: str
) -> None:
    deployment, summary = world
    ticket_id = await longest_history(deployment, summary)
    expected = await history_of(deployment, ticket_id)
    assert expected["isComplete"] is True

    async with person(deployment, billing_url) as (page, base_url):
        response = await page.goto(f"{base_url}/")
        assert response is not None
        assert "script-src 'self';" in response.headers["content-security-policy"]
        await expect(page).to_have_url(f"{base_url}/login?next=/")
        await log_in(page, deployment)
        await expect(page).to_have_url(f"{base_url}/")
        await expect(page.locator("#viewer")).to_have_text(deployment.agent.name)

        await page.get_by_label("Ticket id").fill(str(ticket_id))
        await page.get_by_role("button", name="Show timeline").click()
        await expect(page).to_have_url(f"{base_url}/?ticket={ticket_id}")
        entries = page.locator("#timeline > li")
        await expect(entries).to_have_count(PAGE_SIZE)
        await expect(page.get_by_role("button", name="Load older entries")).to_be_visible()
        assert await shown(entries) == items(expected)[:PAGE_SIZE]
        await expect(page.locator("#total-count")).to_have_text(str(expected["totalCount"]))
        await expect(page.locator("#opened-count")).to_have_text(str(expected["openedTicketCount"]))
        await expect(page.locator("#incomplete")).to_be_hidden()
        await expect(entries.locator(".marker[aria-label]")).to_have_count(PAGE_SIZE)

        await page.mouse.move(600, 500)
        await page.mouse.wheel(0, 20_000)
        await expect(entries).to_have_count(min(2 * PAGE_SIZE, expected["totalCount"]))
        assert await shown(entries) == items(expected)[: 2 * PAGE_SIZE]
        if expected["totalCount"] <= 2 * PAGE_SIZE:
            await expect(page.locator("#status")).to_have_text(
                f"That is the whole history: {expected['totalCount']} entries."
            )
        await page.evaluate("window.scrollTo(0, 0)")  # else the sticky bar lands mid-picture
        await screenshot(page, f"timeline-{backend}.png", full_page=True)


async def test_the_timeline_says_when_billing_data_is_missing(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin, billing_url: str, backend: str
) -> None:
    deployment, summary = world
    ticket_id = await longest_history(deployment, summary)
    await billing.set_faults(error_rate=1.0, error_status=503)
    expected = await history_of(deployment, ticket_id)
    assert expected["isComplete"] is False
    messages = [warning["message"] for warning in expected["warnings"]]
    assert messages

    async with person(deployment, billing_url) as (page, base_url):
        await page.goto(f"{base_url}/?ticket={ticket_id}")
        await expect(page).to_have_url(f"{base_url}/login?next=/%3Fticket%3D{ticket_id}")
        await log_in(page, deployment)
        await expect(page).to_have_url(f"{base_url}/?ticket={ticket_id}")

        banner = page.locator("#incomplete")
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("Billing data unavailable")
        await expect(banner.locator("li")).to_have_text(messages)
        entries = page.locator("#timeline > li")
        await expect(entries).to_have_count(min(PAGE_SIZE, expected["totalCount"]))
        assert await shown(entries) == items(expected)[:PAGE_SIZE]
        await expect(page.locator("#total-count")).to_have_text(str(expected["totalCount"]))
        await screenshot(page, f"timeline-billing-down-{backend}.png")

        await page.mouse.move(600, 500)
        while await entries.count() < expected["totalCount"]:
            await page.mouse.wheel(0, 20_000)
            await expect(entries).not_to_have_count(await entries.count())
        await expect(page.locator("#status")).to_have_text(
            f"That is all the helpdesk has: {expected['totalCount']} entries. Billing events are "
            "missing; reload when billing answers again."
        )


async def test_a_walk_starts_again_when_completeness_changes(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin, billing_url: str
) -> None:
    deployment, summary = world
    ticket_id = await longest_history(deployment, summary)

    async with person(deployment, billing_url) as (page, base_url):
        await page.goto(f"{base_url}/?ticket={ticket_id}")
        await log_in(page, deployment)
        entries = page.locator("#timeline > li")
        await expect(entries).to_have_count(PAGE_SIZE)
        await expect(page.locator("#incomplete")).to_be_hidden()

        # Billing fails between the first page and the second: the second page's cursor
        # belongs to a complete walk, so the page starts again from the newest entry.
        await billing.set_faults(error_rate=1.0, error_status=503)
        partial = await history_of(deployment, ticket_id)
        assert partial["isComplete"] is False
        await page.mouse.move(600, 500)
        await page.mouse.wheel(0, 20_000)

        await expect(page.locator("#incomplete")).to_be_visible()
        await expect(page.locator("#notice")).to_contain_text("reloaded from the newest entry")
        await expect(entries).to_have_count(min(PAGE_SIZE, partial["totalCount"]))
        assert await shown(entries) == items(partial)[:PAGE_SIZE]
