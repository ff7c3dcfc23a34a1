"""Relay cursor connection conformance of `history`, with the design's stricter rules."""

from __future__ import annotations

from typing import Any

import pytest

from app.graphql.cursors import binding, encode_cursor
from app.history.model import NO_FILTER, Scope
from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event
from tests.support.graphql import WHOLE_HISTORY, data_of, post

T0 = 1_700_000_000

PAGE = """
query Page($id: Int!, $first: Int, $after: String, $last: Int, $before: String) {
  ticket(id: $id) {
    history(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
}"""


async def page(scratch: Deployment, ticket: int, **arguments: Any) -> dict[str, Any]:
    data = await data_of(scratch.client, PAGE, {"id": ticket, **arguments})
    history: dict[str, Any] = data["ticket"]["history"]
    return history


def node_ids(history: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in history["edges"]]


@pytest.fixture
async def ticket_with_history(factory: Factory, billing: BillingAdmin) -> int:
    """A contract with 7 tickets and 6 events interleaved in time: 13 items."""
    customer = await factory.customer()
    contract = await factory.contract(customer)
    tickets = [
        await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0 - n * 100)
        for n in range(7)
    ]
    await billing.set_events(contract, [event(70_000 + n, T0 - n * 110 - 5) for n in range(6)])
    return tickets[0]


async def test_forward_walk_visits_every_item_once(
    scratch: Deployment, ticket_with_history: int
) -> None:
    whole = node_ids(await page(scratch, ticket_with_history, first=100))
    assert len(whole) == 13

    walked: list[str] = []
    after = None
    while True:
        history = await page(scratch, ticket_with_history, first=5, after=after)
        walked += node_ids(history)
        info = history["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == history["edges"][0]["cursor"]
        assert info["endCursor"] == history["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]

    assert walked == whole


async def test_backward_walk_from_the_oldest_visits_every_item_once(
    scratch: Deployment, ticket_with_history: int
) -> None:
    whole = node_ids(await page(scratch, ticket_with_history, first=100))

    walked: list[str] = []
    before = None
    while True:
        history = await page(scratch, ticket_with_history, last=4, before=before)
        walked = node_ids(history) + walked
        assert history["pageInfo"]["hasNextPage"] is (before is not None)
        if not history["pageInfo"]["hasPreviousPage"]:
            break
        before = history["pageInfo"]["startCursor"]

    assert walked == whole


async def test_mixed_directions_return_the_items_between_cursors(
    scratch: Deployment, ticket_with_history: int
) -> None:
    whole = await page(scratch, ticket_with_history, first=100)
    cursors = [edge["cursor"] for edge in whole["edges"]]

    back = await page(scratch, ticket_with_history, last=3, before=cursors[8])
    forward = await page(scratch, ticket_with_history, first=3, after=cursors[4])

    assert node_ids(back) == node_ids(whole)[5:8]
    assert back["pageInfo"]["hasPreviousPage"] is True
    assert node_ids(forward) == node_ids(whole)[5:8]
    assert forward["pageInfo"]["hasNextPage"] is True


async def test_empty_pages_have_null_cursors(scratch: Deployment, ticket_with_history: int) -> None:
    whole = await page(scratch, ticket_with_history, first=100)
    last_cursor = whole["edges"][-1]["cursor"]

    nothing_asked = await page(scratch, ticket_with_history, first=0)
    past_the_end = await page(scratch, ticket_with_history, first=5, after=last_cursor)

    assert nothing_asked["edges"] == []
    assert nothing_asked["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    assert past_the_end["edges"] == []
    assert past_the_end["pageInfo"]["hasNextPage"] is False
    assert past_the_end["pageInfo"]["startCursor"] is None
    assert past_the_end["totalCount"] == 13


async def test_default_page_size_is_20(scratch: Deployment, factory: Factory) -> None:
    customer = await factory.customer()
    anchor = await factory.ticket(customer_id=customer)
    for n in range(24):
        await factory.ticket(customer_id=customer, created_at=T0 - n)

    history = await page(scratch, anchor)

    assert len(history["edges"]) == 20
    assert history["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first": 2, "last": 2}, "Pass either `first` or `last`, not both."),
        ({"first": 1001}, "`first` must be between 0 and 1000."),
        ({"first": -1}, "`first` must be between 0 and 1000."),
        ({"last": 1001}, "`last` must be between 0 and 1000."),
        ({"first": 1, "after": "not-a-cursor"}, "`after` is not a valid cursor."),
        ({"last": 1, "before": "aDE6eHg6MTox"}, "`before` is not a valid cursor."),
    ],
)
async def test_bad_page_arguments_are_bad_user_input(
    scratch: Deployment, ticket_with_history: int, arguments: dict[str, Any], message: str
) -> None:
    response = await post(scratch.client, PAGE, {"id": ticket_with_history, **arguments})

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"ticket": None}
    assert body["errors"] == [
        {
            "message": message,
            "locations": [{"line": 4, "column": 5}],
            "path": ["ticket", "history"],
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]


async def test_a_cursor_only_works_in_its_own_history_and_filter(
    scratch: Deployment, factory: Factory, ticket_with_history: int
) -> None:
    cursor = (await page(scratch, ticket_with_history, first=2))["pageInfo"]["endCursor"]
    stranger = await factory.ticket()

    elsewhere = await post(scratch.client, PAGE, {"id": stranger, "first": 2, "after": cursor})
    filtered = await post(
        scratch.client,
        """query($id: Int!, $after: String) { ticket(id: $id) {
             history(first: 2, after: $after, filter: {types: [TICKET]}) { totalCount } } }""",
        {"id": ticket_with_history, "after": cursor},
    )

    message = "`after` is a cursor of another history or filter."
    assert [e["message"] for e in elsewhere.json()["errors"]] == [message]
    assert [e["message"] for e in filtered.json()["errors"]] == [message]


async def test_newer_items_do_not_shift_later_pages_and_older_ones_appear(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    anchor = await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0)
    for n in range(1, 6):
        await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0 - n * 10)
    await billing.set_events(contract, [event(80_001, T0 - 25)])
    first_page = await page(scratch, anchor, first=3)
    planned_rest = node_ids(
        await page(scratch, anchor, first=10, after=first_page["pageInfo"]["endCursor"])
    )

    await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0 + 99)
    await billing.set_events(contract, [event(80_001, T0 - 25), event(80_002, T0 + 50)])
    behind = await factory.ticket(contract_id=contract, customer_id=customer, created_at=T0 - 45)
    rest = await page(scratch, anchor, first=10, after=first_page["pageInfo"]["endCursor"])

    ticket_ids = [edge["node"]["id"] for edge in rest["edges"]]
    assert [i for i in ticket_ids if i in planned_rest] == planned_rest
    new = [i for i in ticket_ids if i not in planned_rest]
    assert len(new) == 1
    full = await data_of(scratch.client, WHOLE_HISTORY, {"id": anchor})
    by_id = {n["id"]: n for n in full["ticket"]["history"]["nodes"]}
    assert by_id[new[0]]["ticketId"] == behind


async def test_cursors_beyond_either_end_give_empty_or_edge_pages(
    scratch: Deployment, factory: Factory, ticket_with_history: int
) -> None:
    ticket = await scratch.client.get(f"/api/mind/ticket/{ticket_with_history}/history")
    assert ticket.status_code == 200
    whole = node_ids(await page(scratch, ticket_with_history, first=100))
    contract = (
        await data_of(
            scratch.client, "query($id: Int!) { ticket(id: $id) { contract { id } } }",
            {"id": ticket_with_history},
        )
    )["ticket"]["contract"]["id"]  # fmt: skip
    bound_to = binding(Scope("contract", contract), NO_FILTER)
    oldest_possible = encode_cursor((-(2**31), 0, 0), bound_to)
    newest_possible = encode_cursor((2**31 - 1, 2, 2**31 - 1), bound_to)
    overflowing = encode_cursor((2**40, 2, 1), bound_to)

    nothing_older = await page(scratch, ticket_with_history, first=5, after=oldest_possible)
    all_older = await page(scratch, ticket_with_history, first=5, after=newest_possible)
    newest = await page(scratch, ticket_with_history, last=3, before=oldest_possible)
    refused = await post(scratch.client, PAGE, {"id": ticket_with_history, "after": overflowing})

    assert nothing_older["edges"] == []
    assert nothing_older["pageInfo"]["hasNextPage"] is False
    assert node_ids(all_older) == whole[:5]
    assert node_ids(newest) == whole[-3:]
    assert refused.json()["errors"][0]["message"] == "`after` is not a valid cursor."
