"""GraphQL root fields, links, filters, partial answers and error codes."""

from __future__ import annotations

from typing import Any

import pytest

from app.auth.agents import Agent
from app.deps import current_agent, history_service
from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event
from tests.support.graphql import NODE_FIELDS, data_of, post

T0 = 1_700_000_000
DAY = 86_400


async def test_unknown_ticket_is_null_with_a_not_found_error(scratch: Deployment) -> None:
    response = await post(scratch.client, "{ ticket(id: 987654) { id } }")

    assert response.status_code == 200
    assert response.json() == {
        "data": {"ticket": None},
        "errors": [
            {
                "message": "Ticket 987654 does not exist.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["ticket"],
                "extensions": {"code": "NOT_FOUND"},
            }
        ],
    }


async def test_tickets_keep_the_order_asked_with_null_for_unknown_ids(
    scratch: Deployment, factory: Factory
) -> None:
    first, second = await factory.ticket(), await factory.ticket()

    response = await post(
        scratch.client, "query($ids: [Int!]!) { tickets(ids: $ids) { id } }",
        {"ids": [second, 987654, first, -1]},
    )  # fmt: skip

    assert response.json() == {"data": {"tickets": [{"id": second}, None, {"id": first}, None]}}


async def test_more_than_100_ids_is_bad_user_input(scratch: Deployment) -> None:
    response = await post(
        scratch.client, "query($ids: [Int!]!) { tickets(ids: $ids) { id } }",
        {"ids": list(range(1, 102))},
    )  # fmt: skip

    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert response.json()["errors"][0]["message"] == "At most 100 ids per query."


async def test_ticket_links_to_its_contract_customer_and_history_tickets(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer(firstname="Erika", lastname="Musterfrau")
    contract = await factory.contract(customer, malo_id="41373559241")
    anchor = await factory.ticket(
        contract_id=contract, customer_id=customer, subject="Abschlag", created_at=T0
    )

    data = await data_of(
        scratch.client,
        """query($id: Int!) { ticket(id: $id) {
             subject customer { firstname lastname } contract { id maloId customer { id } }
             history(first: 5) { nodes { ... on TicketEvent { ticket { id subject } } } }
           } }""",
        {"id": anchor},
    )

    assert data["ticket"] == {
        "subject": "Abschlag",
        "customer": {"firstname": "Erika", "lastname": "Musterfrau"},
        "contract": {"id": contract, "maloId": "41373559241", "customer": {"id": customer}},
        "history": {"nodes": [{"ticket": {"id": anchor, "subject": "Abschlag"}}]},
    }


async def test_contract_history_has_no_anchor(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    for status in ("open", "pending", "closed"):
        await factory.ticket(contract_id=contract, customer_id=customer, status=status)
    await billing.set_events(contract, [event(81_000, T0)])

    data = await data_of(
        scratch.client,
        "query($id: ID!) { contract(id: $id) { history { totalCount openedTicketCount } } }",
        {"id": contract},
    )
    missing = await post(scratch.client, '{ contract(id: "nope") { id } }')

    assert data["contract"]["history"] == {"totalCount": 4, "openedTicketCount": 2}
    assert missing.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


@pytest.fixture
async def mixed_history(factory: Factory, billing: BillingAdmin) -> int:
    """Tickets on two channels a day apart, and two billing events."""
    customer = await factory.customer()
    contract = await factory.contract(customer)
    anchor = await factory.ticket(
        contract_id=contract, customer_id=customer, channel="email", created_at=T0
    )
    await factory.ticket(
        contract_id=contract, customer_id=customer, channel="phone", created_at=T0 - DAY
    )
    await factory.ticket(
        contract_id=contract, customer_id=customer, channel="email", created_at=T0 - 2 * DAY
    )
    await billing.set_events(
        contract,
        [
            event(82_001, T0 - DAY // 2),
            event(82_002, T0 - 3 * DAY, kind="delivery", subject="deliveryStart"),
        ],
    )
    return anchor


FILTERED = (
    "query($id: Int!, $filter: HistoryFilterInput) { ticket(id: $id) { history(filter: $filter)"
    " { totalCount nodes { type createdAt ... on TicketEvent { channel } } } } }"
)


@pytest.mark.parametrize(
    ("history_filter", "expected", "billing_calls"),
    [
        ({"types": ["TICKET"]}, ["TICKET email", "TICKET phone", "TICKET email"], 0),
        ({"channels": ["phone"]}, ["TICKET phone"], 0),
        ({"types": ["DELIVERY", "GRID_MESSAGE"]}, ["GRID_MESSAGE", "DELIVERY"], 1),
        (
            {"since": "2023-11-13T22:13:20Z", "until": "2023-11-14T22:13:20Z"},
            ["GRID_MESSAGE", "TICKET phone"],
            1,
        ),
    ],
)
async def test_filters_narrow_items_and_total_and_skip_billing_when_they_can(
    scratch: Deployment,
    billing: BillingAdmin,
    mixed_history: int,
    history_filter: dict[str, Any],
    expected: list[str],
    billing_calls: int,
) -> None:
    response = await post(scratch.client, FILTERED, {"id": mixed_history, "filter": history_filter})

    history = response.json()["data"]["ticket"]["history"]
    labels = [" ".join(filter(None, (n["type"], n.get("channel")))) for n in history["nodes"]]
    assert labels == expected
    assert history["totalCount"] == len(expected)
    assert int(response.headers["X-Billing-Calls"]) == billing_calls
    assert await billing.requests_received() == billing_calls


async def test_billing_failure_keeps_the_items_in_data_and_reports_it_on_the_connection(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    anchor = await factory.ticket(contract_id=contract, customer_id=customer)
    await billing.set_events(contract, [event(83_000, T0 + 10)])
    await billing.set_faults(error_rate=1.0, error_status=503)

    response = await post(
        scratch.client,
        "query($id: Int!) { ticket(id: $id) { history { isComplete missingSources"
        " warnings { source code message } totalCount nodes { " + NODE_FIELDS + " } } } }",
        {"id": anchor},
    )

    body = response.json()
    assert response.status_code == 200
    assert "errors" not in body
    history = body["data"]["ticket"]["history"]
    assert history["isComplete"] is False
    assert history["missingSources"] == ["BILLING"]
    assert history["warnings"] == [
        {
            "source": "BILLING",
            "code": "UPSTREAM_UNAVAILABLE",
            "message": "The billing backend answered HTTP 503.",
        }
    ]
    assert history["totalCount"] == 1
    assert [node["ticketId"] for node in history["nodes"]] == [anchor]


async def test_unexpected_errors_are_masked(
    scratch: Deployment, billing_url: str, factory: Factory
) -> None:
    ticket = await factory.ticket()

    class Exploding:
        async def ticket(self, _ticket_id: int) -> None:
            raise KeyError("SELECT secret FROM internals")

    app = create_app(gateway_settings(scratch.database_url, billing_url))
    app.dependency_overrides[history_service] = Exploding
    async with serving(app, scratch.token) as client:
        response = await client.post(
            "/graphql",
            json={"query": f"{{ ticket(id: {ticket}) {{ id }} }}"},
            headers={"X-Request-ID": "trace-2"},
        )

    assert response.status_code == 200
    assert response.json() == {
        "data": {"ticket": None},
        "errors": [
            {
                "message": "Unexpected error. Quote request id trace-2 when reporting it.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["ticket"],
                "extensions": {"code": "INTERNAL"},
            }
        ],
    }


async def test_filter_times_far_outside_stored_times_select_all_or_nothing(
    scratch: Deployment, billing: BillingAdmin, mixed_history: int
) -> None:
    everything = await post(
        scratch.client, FILTERED, {"id": mixed_history, "filter": {"since": "0001-01-01T00:00:00Z"}}
    )
    nothing = await post(
        scratch.client, FILTERED, {"id": mixed_history, "filter": {"since": "9999-01-01T00:00:00Z"}}
    )

    assert everything.json()["data"]["ticket"]["history"]["totalCount"] == 5
    assert nothing.json()["data"]["ticket"]["history"] == {"totalCount": 0, "nodes": []}


async def test_one_billing_call_per_100_contracts(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    tickets = []
    for _ in range(60):
        customer = await factory.customer()
        for _ in range(2):
            await factory.contract(customer)
        tickets.append(await factory.ticket(customer_id=customer))

    response = await post(
        scratch.client,
        "query($ids: [Int!]!) { tickets(ids: $ids) { history(first: 1) { isComplete } } }",
        {"ids": tickets},
    )

    assert all(t["history"]["isComplete"] for t in response.json()["data"]["tickets"])
    assert response.headers["X-Billing-Calls"] == "2"  # 120 contracts
    assert await billing.requests_received() == 2


async def test_database_outage_after_login_nulls_the_field_with_service_unavailable(
    unreachable_database_url: str, billing_url: str, billing: BillingAdmin
) -> None:
    app = create_app(gateway_settings(unreachable_database_url, billing_url))
    # The database goes away between authenticating the request and answering it.
    app.dependency_overrides[current_agent] = lambda: Agent(1, "a@example.org", "A")
    async with serving(app) as client:
        response = await post(client, "{ ticket(id: 1) { id } }")

    assert response.status_code == 200
    assert response.json()["data"] == {"ticket": None}
    assert response.json()["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert response.json()["errors"][0]["message"] == "The helpdesk database is unavailable."
