"""On a seeded world, every ticket's REST history equals an independent reading of design §6."""

from __future__ import annotations

from typing import Any

from app.world.seeder import SeedSummary
from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.oracle import expected_history


async def rest_history(deployment: Deployment, ticket_id: int, **params: Any) -> dict[str, Any]:
    response = await deployment.client.get(f"/api/mind/ticket/{ticket_id}/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_ticket_history_matches_the_oracle(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin
) -> None:
    deployment, summary = world
    assert summary.tickets > 100

    for ticket_id in range(1, summary.tickets + 1):
        expected = await expected_history(deployment.engine, billing, ticket_id)
        body = await rest_history(deployment, ticket_id, limit=1000)
        assert body == {
            "success": True,
            "total": len(expected.items),
            "totalOpenedTickets": expected.opened_tickets,
            "history": expected.items,
        }, ticket_id


async def test_walking_with_small_pages_rebuilds_the_whole_history(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin
) -> None:
    deployment, summary = world

    for kind, ticket_id in summary.sample_ticket_ids.items():
        whole = (await rest_history(deployment, ticket_id, limit=1000))["history"]
        for limit in (1, 3, 7):
            walked: list[dict[str, Any]] = []
            for offset in range(0, len(whole) + limit, limit):
                walked += (await rest_history(deployment, ticket_id, limit=limit, offset=offset))[
                    "history"
                ]
            assert walked == whole, (kind, limit)


async def test_sample_tickets_cover_every_scope_kind(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin
) -> None:
    deployment, summary = world

    contract_scoped = await rest_history(deployment, summary.sample_ticket_ids["contract"])
    customer_scoped = await rest_history(deployment, summary.sample_ticket_ids["customer_only"])
    alone = await rest_history(deployment, summary.sample_ticket_ids["no_customer"])

    assert any(item["type"] != "ticket" for item in contract_scoped["history"])
    assert customer_scoped["total"] >= 1
    assert [item["id"] for item in alone["history"]] == [summary.sample_ticket_ids["no_customer"]]
