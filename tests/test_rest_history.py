"""REST shim behaviour on rows each test writes: scope, order, totals, headers, degradation."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event

DAY = 86_400
T0 = 1_700_000_000


async def history(scratch: Deployment, ticket_id: int, **params: Any) -> dict[str, Any]:
    response = await scratch.client.get(f"/api/mind/ticket/{ticket_id}/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(item["type"], item["id"] if item["id"] is not None else item["subject"])
            for item in body["history"]]  # fmt: skip


async def test_equal_times_order_tickets_then_grid_messages_then_deliveries(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    low = await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0)
    high = await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0)
    await billing.set_events(
        contract,
        [
            event(9001, T0, kind="delivery", subject="deliveryStart"),
            event(9003, T0, subject="gm-high"),
            event(9002, T0, subject="gm-low"),
            event(9004, T0 + 1, kind="delivery", subject="newest"),
        ],
    )

    body = await history(scratch, low)

    assert ids(body) == [
        ("delivery", "newest"),
        ("ticket", high),
        ("ticket", low),
        ("gridMessage", "gm-high"),
        ("gridMessage", "gm-low"),
        ("delivery", "deliveryStart"),
    ]
    assert body["total"] == 6


async def test_contract_scope_excludes_the_customers_other_tickets(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    other_contract = await factory.contract(customer)
    anchor = await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0)
    await factory.ticket(customer_id=customer, created_at=T0 + DAY, status="open")
    await factory.ticket(contract_id=other_contract, customer_id=customer, created_at=T0 + DAY)
    await billing.set_events(contract, [event(9101, T0 - DAY)])
    await billing.set_events(other_contract, [event(9102, T0 - DAY)])

    body = await history(scratch, anchor)

    assert ids(body) == [("ticket", anchor), ("gridMessage", "deliveryStartConfirmed")]
    assert body["total"] == 2
    assert body["totalOpenedTickets"] == 0


async def test_customer_scope_shows_all_tickets_and_events_of_all_contracts(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    first = await factory.contract(customer)
    second = await factory.contract(customer)
    anchor = await factory.ticket(customer_id=customer, created_at=T0, status="open")
    with_contract = await factory.ticket(
        contract_id=first, customer_id=customer, created_at=T0 - DAY, status="pending"
    )
    loose = await factory.ticket(customer_id=customer, created_at=T0 - 2 * DAY, status="open")
    await factory.ticket(customer_id=await factory.customer(), created_at=T0)  # someone else
    await billing.set_events(first, [event(9201, T0 - 3 * DAY, subject="a")])
    await billing.set_events(second, [event(9202, T0 + DAY, subject="b")])

    body = await history(scratch, anchor)

    assert ids(body) == [
        ("gridMessage", "b"),
        ("ticket", anchor),
        ("ticket", with_contract),
        ("ticket", loose),
        ("gridMessage", "a"),
    ]
    assert body["totalOpenedTickets"] == 2  # the anchor itself does not count


async def test_ticket_without_contract_or_customer_is_its_own_history(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    lone = await factory.ticket(created_at=T0, status="open")
    await factory.ticket(created_at=T0)

    body = await history(scratch, lone)

    assert ids(body) == [("ticket", lone)]
    assert (body["total"], body["totalOpenedTickets"]) == (1, 0)
    assert await billing.requests_received() == 0


async def test_contract_unknown_to_billing_contributes_nothing_and_is_complete(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer, id="not-in-billing")
    anchor = await factory.ticket(contract_id=contract, customer_id=customer)

    body = await history(scratch, anchor)

    assert list(body) == ["success", "total", "totalOpenedTickets", "history"]
    assert ids(body) == [("ticket", anchor)]
    assert await billing.requests_received() == 1


async def test_pages_neither_overlap_nor_skip_and_headers_link_them(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    anchor = await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0)
    for n in range(11):
        await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0 - n * 97)
    await billing.set_events(contract, [event(9300 + n, T0 - n * 131) for n in range(9)])
    whole = ids(await history(scratch, anchor, limit=1000))
    assert len(whole) == 21

    walked = []
    for offset in range(0, 24, 4):
        response = await scratch.client.get(
            f"/api/mind/ticket/{anchor}/history", params={"limit": 4, "offset": offset}
        )
        assert response.headers["X-Total-Count"] == "21"
        assert response.headers["Cache-Control"] == "no-store"
        links = response.headers.get("Link", "")
        assert ('rel="next"' in links) == (offset + 4 < 21)
        assert ('rel="prev"' in links) == (offset > 0)
        walked += ids(response.json())

    assert walked == whole
    last = await scratch.client.get(
        f"/api/mind/ticket/{anchor}/history", params={"limit": 4, "offset": 8}
    )
    # Relative references: a client's Host header never ends up in an answer.
    assert (
        last.headers["Link"] == f"</api/mind/ticket/{anchor}/history?limit=4"
        f'&offset=12>; rel="next", </api/mind/ticket/{anchor}/history?limit=4'
        '&offset=4>; rel="prev"'
    )


async def test_offsets_deep_in_a_history_with_more_events_than_the_read_ahead(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    tickets = [
        await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0 - n * 50)
        for n in range(40)
    ]
    await billing.set_events(contract, [event(20_000 + n, T0 - n * 13) for n in range(160)])
    whole = ids(await history(scratch, tickets[0], limit=1000))
    assert len(whole) == 200

    for offset in (0, 1, 99, 100, 101, 150, 161, 170, 190, 199, 200, 250):
        page = await history(scratch, tickets[0], limit=7, offset=offset)
        assert ids(page) == whole[offset : offset + 7], offset


async def test_counters_show_a_constant_number_of_statements_and_one_billing_call(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contracts = [await factory.contract(customer) for _ in range(3)]
    anchor = await factory.ticket(customer_id=customer)
    for contract in contracts:
        await billing.set_events(contract, [event(next_event(), T0)])

    response = await scratch.client.get(f"/api/mind/ticket/{anchor}/history")

    # API token, ticket, page, counts, the customer's contracts and the access log's insert;
    # one billing call for all contracts
    assert response.headers["X-SQL-Statements"] == "6"
    assert response.headers["X-Billing-Calls"] == "1"
    assert await billing.requests_received() == 1
    assert response.json()["total"] == 4


_event_ids = iter(range(50_000, 60_000))


def next_event() -> int:
    return next(_event_ids)


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        ({"error_rate": 1.0, "error_status": 503}, "UPSTREAM_UNAVAILABLE"),
        ({"error_rate": 1.0, "error_status": 401}, "UPSTREAM_BAD_RESPONSE"),
        ({"malformed": True}, "UPSTREAM_BAD_RESPONSE"),
        ({"reset": True}, "UPSTREAM_UNAVAILABLE"),
        ({"hang": True}, "UPSTREAM_TIMEOUT"),
        ({"drip_bytes_per_second": 20}, "UPSTREAM_TIMEOUT"),
    ],
)
async def test_billing_failure_answers_200_with_the_helpdesk_items_and_a_warning(
    scratch: Deployment,
    factory: Factory,
    billing: BillingAdmin,
    faults: dict[str, Any],
    code: str,
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    anchor = await factory.ticket(contract_id=contract, customer_id=customer, status="open")
    other = await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0 - 1)
    await billing.set_events(contract, [event(next_event(), T0 + 5)])
    await billing.set_faults(**faults)

    started = time.monotonic()
    response = await scratch.client.get(f"/api/mind/ticket/{anchor}/history")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "success",
        "total",
        "totalOpenedTickets",
        "history",
        "partial",
        "warnings",
    ]
    assert ids(body) == [("ticket", anchor), ("ticket", other)]
    assert body["total"] == 2
    assert response.headers["X-Total-Count"] == "2"
    assert body["partial"] is True
    assert [(w["source"], w["code"]) for w in body["warnings"]] == [("billing", code)]
    assert elapsed < 1.0 + 1.5  # the 1 s billing deadline cut any hang
