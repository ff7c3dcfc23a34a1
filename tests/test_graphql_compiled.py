"""Compiled completion: the same answers as graphql-core's own execution, with a handful of field
executions instead of one per field of every item."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import strawberry
from graphql.execution.executor import Executor

from app.graphql.compiled import compiling_executor
from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event
from tests.support.graphql import NODE_FIELDS, post

T0 = 1_700_000_000
HOUR = 3_600
TICKETS = 30
EVENTS = 12

WHOLE_PAGE = (
    "query($id: Int!) { ticket(id: $id) { history(first: 100) {"
    " edges { cursor node { " + NODE_FIELDS + " } }"
    " pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
    " totalCount openedTicketCount isComplete missingSources warnings { source code message }"
    " } } }"
)

QUERIES = {
    "every item field": (WHOLE_PAGE, {}),
    "aliases, fragments and merged fields": (
        """query($id: Int!) { ticket(id: $id) { h: history(first: 7) {
             all: nodes { ...Item } nodes { id } n: totalCount
             edges { node { id ... on TicketEvent { status ticketId } } cursor }
             edges { node { ... on HistoryItem { type } ... on DeliveryEvent { subject } } }
           } } }
           fragment Item on HistoryItem { __typename createdAt ... on GridMessageEvent { url } }""",
        {},
    ),
    "a linked ticket (resolved by graphql-core inside the page)": (
        "query($id: Int!) { ticket(id: $id) { history(first: 10) { nodes {"
        " __typename id ... on TicketEvent { ticket { id subject } } } totalCount } } }",
        {},
    ),
    "directives driven by variables": (
        "query($id: Int!, $urls: Boolean!, $ids: Boolean!) { ticket(id: $id) {"
        " history(first: 10) { nodes { type url @include(if: $urls) id @skip(if: $ids) } } } }",
        {"urls": True, "ids": True},
    ),
    "the same directives the other way": (
        "query($id: Int!, $urls: Boolean!, $ids: Boolean!) { ticket(id: $id) {"
        " history(first: 10) { nodes { type url @include(if: $urls) id @skip(if: $ids) } } } }",
        {"urls": False, "ids": False},
    ),
    "totals asked through fragments only": (
        """query($id: Int!) { ticket(id: $id) { history(first: 3) {
             ...Counts ... on HistoryConnection { opened: openedTicketCount } nodes { id }
           } } }
           fragment Counts on HistoryConnection { totalCount }""",
        {},
    ),
    "a contract's history": (
        "query($contract: ID!) { contract(id: $contract) { history(first: 100) {"
        " edges { cursor node { " + NODE_FIELDS + " } } totalCount } } }",
        {},
    ),
}


@pytest.fixture
async def busy_ticket(factory: Factory, billing: BillingAdmin) -> tuple[int, str]:
    """A ticket whose contract has TICKETS tickets and EVENTS billing events (both kinds)."""
    customer = await factory.customer()
    contract = await factory.contract(customer)
    statuses = ("open", "closed", "pending")
    ticket_ids = [
        await factory.ticket(
            contract_id=contract,
            customer_id=customer,
            created_at=T0 - n * HOUR,
            status=statuses[n % 3],
            channel=("email", "phone", "portal")[n % 3],
        )
        for n in range(TICKETS)
    ]
    await billing.set_events(
        contract,
        [
            event(
                90_000 + n,
                T0 - n * 2 * HOUR - HOUR // 2,
                **({"kind": "delivery", "subject": "deliveryStart"} if n % 4 == 0 else {}),
            )
            for n in range(EVENTS)
        ],
    )
    return ticket_ids[0], contract


@pytest.fixture
async def interpreted(scratch: Deployment, billing_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on the same database with compiled plans off: graphql-core's execution."""
    settings = gateway_settings(scratch.database_url, billing_url, graphql_compiled_plans=False)
    async with serving(create_app(settings), scratch.token) as client:
        yield client


@pytest.fixture
def field_executions() -> Iterator[list[str]]:
    """The name of every field graphql-core executes on its own, in order."""
    executed: list[str] = []
    original = Executor.execute_field

    def counting(self: Executor, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        executed.append(details[0].node.name.value)
        return original(self, parent_type, source, details, *rest)

    Executor.execute_field = counting  # type: ignore[method-assign]
    try:
        yield executed
    finally:
        Executor.execute_field = original  # type: ignore[method-assign]


@pytest.mark.parametrize("name", list(QUERIES))
async def test_answers_equal_graphql_cores_own_execution(
    scratch: Deployment,
    interpreted: httpx.AsyncClient,
    busy_ticket: tuple[int, str],
    name: str,
) -> None:
    query, extra = QUERIES[name]
    ticket_id, contract = busy_ticket
    variables = {"id": ticket_id, "contract": contract, **extra}
    variables = {key: value for key, value in variables.items() if f"${key}" in query}

    compiled = await post(scratch.client, query, variables)
    plain = await post(interpreted, query, variables)

    assert compiled.status_code == plain.status_code == 200
    assert "errors" not in compiled.json()
    assert compiled.content == plain.content


async def test_partial_answers_are_the_same(
    scratch: Deployment,
    interpreted: httpx.AsyncClient,
    busy_ticket: tuple[int, str],
    billing: BillingAdmin,
) -> None:
    ticket_id, _ = busy_ticket
    await billing.set_faults(error_rate=1.0, error_status=503)

    compiled = await post(scratch.client, WHOLE_PAGE, {"id": ticket_id})
    plain = await post(interpreted, WHOLE_PAGE, {"id": ticket_id})

    history = compiled.json()["data"]["ticket"]["history"]
    assert (history["isComplete"], history["missingSources"]) == (False, ["BILLING"])
    assert len(history["edges"]) == TICKETS
    assert compiled.content == plain.content


async def test_a_page_is_completed_without_executing_its_fields_one_by_one(
    scratch: Deployment,
    interpreted: httpx.AsyncClient,
    busy_ticket: tuple[int, str],
    field_executions: list[str],
) -> None:
    ticket_id, _ = busy_ticket

    await post(scratch.client, WHOLE_PAGE, {"id": ticket_id})
    compiled = list(field_executions)
    field_executions.clear()
    await post(interpreted, WHOLE_PAGE, {"id": ticket_id})
    plain = list(field_executions)

    # Only the root field and the `history` field (it takes arguments) are executed on their own.
    assert compiled == ["ticket", "history"]
    assert plain.count("createdAt") == TICKETS + EVENTS
    assert len(plain) > 10 * (TICKETS + EVENTS)


async def test_objects_a_plan_cannot_complete_are_left_to_graphql_core(
    scratch: Deployment, busy_ticket: tuple[int, str], field_executions: list[str]
) -> None:
    ticket_id, _ = busy_ticket
    query, _ = QUERIES["a linked ticket (resolved by graphql-core inside the page)"]

    response = await post(scratch.client, query, {"id": ticket_id})

    nodes = response.json()["data"]["ticket"]["history"]["nodes"]
    ticket_items = [node for node in nodes if node["__typename"] == "TicketEvent"]
    assert len(ticket_items) == 10 - sum(node["__typename"] != "TicketEvent" for node in nodes)
    assert all(isinstance(node["ticket"]["id"], int) for node in ticket_items)
    # Ticket items (their `ticket` resolver takes info) go field by field; events do not.
    assert field_executions.count("ticket") == 1 + len(ticket_items)
    assert field_executions.count("__typename") == len(ticket_items)


# --- the executor on its own: values a plan does not expect ---------------------------------


@strawberry.interface
class Animal:
    name: str


@strawberry.type
class Dog(Animal):
    barks: bool


@strawberry.type
class Cat(Animal):
    lives: int


class Puppy(Dog):
    """A Python subclass: Strawberry resolves it as a Dog; a plan has no entry for its class."""


@strawberry.type
class Box:
    label: str
    animals: list[Animal]
    sizes: list[int]

    @strawberry.field
    def weight(self) -> int:
        if self.label == "heavy":
            raise ValueError("too heavy to weigh")
        return len(self.animals)


def _boxes() -> list[Box]:
    return [
        Box(
            label="mixed",
            animals=[Dog(name="Rex", barks=True), Cat(name="Tom", lives=9)],
            sizes=[1],
        ),
        Box(label="puppies", animals=[Puppy(name="Bit", barks=False)], sizes=[2, 3]),
        Box(label="heavy", animals=[], sizes=[]),
        Box(label=None, animals=[], sizes=[]),  # type: ignore[arg-type]  # a null it forbids
        Box(label="cast", animals=[strawberry.cast(Cat, Dog(name="Odd", barks=True))], sizes=[]),
        Box(label="odd sizes", animals=[], sizes=["x"]),  # type: ignore[list-item]
        # Values their scalars convert: an int for a String, a bool for an Int.
        Box(label=42, animals=[], sizes=[True]),  # type: ignore[arg-type, list-item]
    ]


@strawberry.type
class ZooQuery:
    @strawberry.field
    def boxes(self) -> list[Box | None]:
        return list(_boxes())


ZOO_QUERY = """{ boxes { __typename label weight sizes
    animals { __typename name ... on Dog { barks } ... on Cat { lives } } } }"""


async def test_unexpected_values_get_graphql_cores_answer_and_errors() -> None:
    compiled = strawberry.Schema(
        query=ZooQuery, types=[Dog, Cat], execution_context_class=compiling_executor()
    )
    plain = strawberry.Schema(query=ZooQuery, types=[Dog, Cat])

    mine, theirs = await compiled.execute(ZOO_QUERY), await plain.execute(ZOO_QUERY)

    assert mine.data == theirs.data
    assert [error.formatted for error in mine.errors or []] == [
        error.formatted for error in theirs.errors or []
    ]
    assert mine.data is not None
    assert mine.data["boxes"][1]["animals"] == [
        {"__typename": "Dog", "name": "Bit", "barks": False}
    ]
    # Four boxes fail in four ways (a resolver error, a forbidden null, a cast, a bad leaf).
    assert mine.data["boxes"][2:6] == [None] * 4
    assert (mine.data["boxes"][6]["label"], mine.data["boxes"][6]["sizes"]) == ("42", [1])
    assert len(theirs.errors or []) == 4
