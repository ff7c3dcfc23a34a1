"""On a seeded world: GraphQL and REST give the same items in the same order, and batching holds."""

from __future__ import annotations

from typing import Any

import pytest

from app.world.seeder import SeedSummary
from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.graphql import WHOLE_HISTORY, as_rest_item, data_of, post


async def test_graphql_and_rest_agree_on_every_ticket(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin
) -> None:
    deployment, summary = world

    for ticket_id in range(1, summary.tickets + 1):
        rest = (
            await deployment.client.get(
                f"/api/mind/ticket/{ticket_id}/history", params={"limit": 1000}
            )
        ).json()
        graphql = (await data_of(deployment.client, WHOLE_HISTORY, {"id": ticket_id}))["ticket"]
        history = graphql["history"]
        assert [as_rest_item(node) for node in history["nodes"]] == rest["history"], ticket_id
        assert history["totalCount"] == rest["total"]
        assert history["openedTicketCount"] == rest["totalOpenedTickets"]
        assert history["isComplete"] is True


TIMELINES = """
query Timelines($ids: [Int!]!) {
  tickets(ids: $ids) {
    id
    history(first: 10) {
      totalCount
      nodes {
        id type createdAt
        ... on TicketEvent { ticket { subject contract { id } } }
      }
    }
  }
}"""


async def costs(deployment: Deployment, ids: list[int]) -> tuple[int, int, list[Any]]:
    response = await post(deployment.client, TIMELINES, {"ids": ids})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    return (
        int(response.headers["X-SQL-Statements"]),
        int(response.headers["X-Billing-Calls"]),
        body["data"]["tickets"],
    )


@pytest.mark.parametrize("count", [2, 10, 50, 100])
async def test_timelines_of_many_tickets_cost_a_constant_number_of_statements(
    world: tuple[Deployment, SeedSummary], billing: BillingAdmin, count: int
) -> None:
    deployment, summary = world
    assert summary.tickets >= 100
    ids = list(range(1, count + 1))  # from the start: contract and customer scopes both
    assert {summary.sample_ticket_ids["contract"], summary.sample_ticket_ids["customer_only"]} <= {
        1,
        2,
    }

    statements, billing_calls, tickets = await costs(deployment, ids)

    # the API token, tickets by id, history windows, counts, customers' contracts,
    # linked contracts, and the access log's one insert
    assert statements == 7
    assert billing_calls == 1
    assert await billing.requests_received() == 1
    assert [ticket["id"] for ticket in tickets] == ids
    assert all(ticket["history"]["nodes"] for ticket in tickets)
