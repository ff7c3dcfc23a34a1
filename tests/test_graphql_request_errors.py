"""GraphQL request errors: what a client or an attacker sends wrong is a coded 400, never INTERNAL.

Every case here was a 500, an `INTERNAL` error logged with its traceback, a stalled worker or a
wrong operation before the hardening issue: fragment chains whose expansion doubles with every
link, variables of the wrong type, bodies that are not a JSON object, documents with several
operations and no `operationName`. Expected errors are counted and logged at INFO without the
query text; only a bug is logged at ERROR.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory
from tests.support.graphql import post

TICKET_BY_ID = "query($id: Int!) { ticket(id: $id) { id } }"
FILTERED = "query($f: HistoryFilterInput) { ticket(id: 1) { history(filter: $f) { totalCount } } }"
SECRET = "query-text-that-must-not-be-logged"


def fragment_chain(links: int, field: str = "id") -> str:
    """`viewer` spreading F0, each fragment spreading the next twice: 2^links fields expanded."""
    fragments = " ".join(
        f"fragment F{n} on Agent {{ ...F{n + 1} ...F{n + 1} }}" for n in range(links)
    )
    return f"query {{ viewer {{ ...F0 }} }} {fragments} fragment F{links} on Agent {{ {field} }}"


def refusal(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}


async def assert_refused(
    scratch: Deployment, billing: BillingAdmin, body: object, message: str
) -> None:
    """400, one `BAD_USER_INPUT` error with MESSAGE (locations aside), no `data`, no work."""
    response = await scratch.client.post("/graphql", json=body)

    assert response.status_code == 400, response.text
    answer = response.json()
    for error in answer["errors"]:
        error.pop("locations", None)
    assert answer == refusal(message)
    assert response.headers["X-SQL-Statements"] == "1"  # authenticating the request, no more
    assert await billing.requests_received() == 0


def no_error_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert all(SECRET not in r.getMessage() for r in caplog.records)


async def test_a_fragment_chain_is_refused_without_expanding_it(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    await assert_refused(
        scratch,
        billing,
        {"query": fragment_chain(30)},
        f"A selection asks for the same field {2**30} times (fragments included); at most 20 "
        "are allowed.",
    )


async def test_a_long_fragment_chain_is_refused_by_the_token_limit(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    await assert_refused(
        scratch,
        billing,
        {"query": fragment_chain(200)},
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted.",
    )


async def test_without_a_token_limit_a_long_fragment_chain_is_still_refused(
    scratch: Deployment, billing_url: str
) -> None:
    settings = gateway_settings(scratch.database_url, billing_url, graphql_max_tokens=100_000)
    async with serving(create_app(settings), scratch.token) as client:
        response = await post(client, fragment_chain(200))

    assert response.status_code == 400
    assert response.json() == refusal(
        f"A selection asks for the same field {2**200} times (fragments included); at most 20 "
        "are allowed."
    )


async def test_aliases_in_a_fragment_chain_are_counted_expanded(
    scratch: Deployment, billing_url: str
) -> None:
    settings = gateway_settings(scratch.database_url, billing_url, graphql_max_field_repeats=1000)
    async with serving(create_app(settings), scratch.token) as client:
        response = await post(client, fragment_chain(40, field="a: id"))

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": f"A selection asks for the same field {2**40} times (fragments "
                "included); at most 1000 are allowed.",
                "extensions": {"code": "BAD_USER_INPUT"},
            },
            {
                "message": f"{2**40} aliases found. Allowed: 15",
                "extensions": {"code": "BAD_USER_INPUT"},
            },
        ]
    }


@pytest.mark.parametrize(
    "query",
    [
        "{" + " viewer { id }" * 440 + " }",
        "query { viewer { "
        + " ".join(f"...F{n}" for n in range(200))
        + " } } "
        + " ".join(f"fragment F{n} on Agent {{ id }}" for n in range(200)),
    ],
    ids=["same-field", "fragment-fan-out"],
)
async def test_many_selections_of_one_field_are_refused_before_graphql_core_compares_them(
    scratch: Deployment, billing: BillingAdmin, query: str
) -> None:
    # graphql-core's OverlappingFieldsCanBeMergedRule compares every pair: a second here.
    repeats = 440 if query.startswith("{") else 200
    await assert_refused(
        scratch,
        billing,
        {"query": query},
        f"A selection asks for the same field {repeats} times (fragments included); at most 20 "
        "are allowed.",
    )


async def test_every_operation_is_measured_even_when_names_repeat(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    # Two anonymous operations: graphql-core refuses them, but only after its validation,
    # whose time the second one's 440 repeated fields would blow up.
    heavy = "{" + " viewer { id }" * 440 + " }"

    await assert_refused(
        scratch,
        billing,
        {"query": "{ viewer { id } } " + heavy},
        "A selection asks for the same field 440 times (fragments included); at most 20 are "
        "allowed.",
    )


async def test_introspection_counts_in_the_cost(scratch: Deployment, billing: BillingAdmin) -> None:
    schema = "__schema { types { name fields { name type { name ofType { name } } } } }"
    one = await post(scratch.client, f"{{ {schema} }}")
    many = " ".join(f"s{n}: {schema}" for n in range(6))

    assert one.status_code == 200
    assert one.headers["X-GraphQL-Cost"] == "10000"
    await assert_refused(
        scratch,
        billing,
        {"query": f"{{ {many} }}"},
        "The query's estimated cost is 60000; the limit is 50000. Ask for fewer or smaller pages.",
    )


async def test_variables_holding_too_many_values_are_refused(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    await assert_refused(
        scratch,
        billing,
        {"query": FILTERED, "variables": {"f": {"types": ["TICKET"] * 66_000}}},
        "The variables hold over 1000 values.",
    )


async def test_a_deep_operation_through_fragments_is_refused(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    fragments = " ".join(
        f"fragment D{n} on Ticket {{ contract {{ customer {{ id }} history {{ nodes {{ "
        f"... on TicketEvent {{ ticket {{ ...D{n + 1} }} }} }} }} }} }}"
        for n in range(3)
    )
    query = f"query Deep {{ ticket(id: 1) {{ ...D0 }} }} {fragments} fragment D3 on Ticket {{ id }}"

    await assert_refused(
        scratch, billing, {"query": query}, "'Deep' exceeds maximum operation depth of 10"
    )


async def test_the_cost_is_reported_on_every_answer(scratch: Deployment) -> None:
    response = await post(
        scratch.client,
        "query($ids: [Int!]!) { tickets(ids: $ids) { id history(first: 3) { nodes { id } } } }",
        {"ids": [1, 2]},
    )

    assert response.status_code == 200
    # Per ticket: itself, its id, the connection and 3 nodes of one field each.
    assert response.headers["X-GraphQL-Cost"] == str(2 * (1 + 1 + 1 + 3 * 2))
    assert response.headers["X-GraphQL-Cost-Limit"] == "50000"


async def test_a_page_size_over_the_budget_is_refused_before_any_work(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    query = (
        "query($ids: [Int!]!, $n: Int) "
        "{ tickets(ids: $ids) { history(first: $n) { nodes { id createdAt } } } }"
    )
    ids = list(range(1, 101))

    await assert_refused(
        scratch,
        billing,
        {"query": query, "variables": {"ids": ids, "n": 1000}},
        "The query's estimated cost is 300200; the limit is 50000. Ask for fewer or smaller pages.",
    )
    small = await post(scratch.client, query, {"ids": ids, "n": 10})
    assert small.status_code == 200
    assert small.headers["X-GraphQL-Cost"] == "3200"


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (
            TICKET_BY_ID,
            {"id": "abc"},
            "Variable '$id' has invalid value: Int cannot represent non-integer value: 'abc'",
        ),
        (
            TICKET_BY_ID,
            {},
            "Variable '$id' has invalid value: Expected a value of non-null type 'Int!' to be "
            "provided.",
        ),
        (
            TICKET_BY_ID,
            {"id": None},
            "Variable '$id' has invalid value: Expected value of non-null type 'Int!' not to be "
            "None.",
        ),
        (
            TICKET_BY_ID,
            {"id": 1.5},
            "Variable '$id' has invalid value: Int cannot represent non-integer value: 1.5",
        ),
        (
            TICKET_BY_ID,
            {"id": 2**31},
            "Variable '$id' has invalid value: Int cannot represent non 32-bit signed integer "
            "value: 2147483648",
        ),
        (
            FILTERED,
            {"f": {"types": ["NOPE"]}},
            "Variable '$f' has invalid value at .types[0]: Value 'NOPE' does not exist in "
            "'HistoryItemType' enum.",
        ),
        (
            FILTERED,
            {"f": {"since": "yesterday"}},
            "Variable '$f' has invalid value at .since: Value cannot represent a DateTime: "
            "\"yesterday\". Expected 4 digits, got 'yest'",
        ),
        (
            FILTERED,
            {"f": {"nope": 1}},
            "Variable '$f' has invalid value: Expected value of type 'HistoryFilterInput' not to "
            "include unknown field 'nope', found: {'nope': 1}.",
        ),
    ],
)
async def test_wrong_variables_are_bad_user_input_and_not_logged_as_errors(
    scratch: Deployment,
    billing: BillingAdmin,
    caplog: pytest.LogCaptureFixture,
    query: str,
    variables: dict[str, Any],
    message: str,
) -> None:
    with caplog.at_level(logging.INFO):
        await assert_refused(
            scratch, billing, {"query": f"# {SECRET}\n{query}", "variables": variables}, message
        )

    no_error_logs(caplog)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"null", "The request body must be a JSON object."),
        (b'"x"', "The request body must be a JSON object."),
        (b"1", "The request body must be a JSON object."),
        (b"true", "The request body must be a JSON object."),
        (
            b'{"query": "{ viewer { id } }\xff"}',
            "Unable to parse request body as JSON: str is not valid UTF-8: surrogates not "
            "allowed: line 1 column 1 (char 0)",
        ),
        (
            b"[" * 100_000,
            "Unable to parse request body as JSON: depth limit exceeded: line 1 column 1026 "
            "(char 1025)",
        ),
        (
            b'{"query": "query($id: Int!) { ticket(id: $id) { id } }", "variables": {"id": '
            + b"9" * 5000
            + b"}}",
            "Unable to parse request body as JSON: number is infinity when parsed as double: "
            "line 1 column 78 (char 77)",
        ),
        (
            b'{"query": "{ viewer { id } }", "operationName": 5}',
            "The GraphQL operation's `operationName` must be a string.",
        ),
    ],
)
async def test_bodies_that_are_not_a_graphql_request_are_400(
    scratch: Deployment, caplog: pytest.LogCaptureFixture, content: bytes, message: str
) -> None:
    response = await scratch.client.post(
        "/graphql", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json() == refusal(message)
    no_error_logs(caplog)


async def test_several_operations_need_an_operation_name(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    document = "query A { viewer { id } } query B { viewer { name } }"

    await assert_refused(
        scratch,
        billing,
        {"query": document},
        "Must provide operation name if query contains multiple operations.",
    )
    chosen = await scratch.client.post("/graphql", json={"query": document, "operationName": "B"})
    assert chosen.json() == {"data": {"viewer": {"name": scratch.agent.name}}}


async def test_an_unknown_operation_name_is_refused(scratch: Deployment) -> None:
    response = await scratch.client.post(
        "/graphql", json={"query": "query A { viewer { id } }", "operationName": "C"}
    )

    assert response.status_code == 400
    assert response.json() == refusal('Unknown operation named "C".')


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ ticket(id: 987654) { id } }", "NOT_FOUND"),
        ('{ contract(id: "nope") { id } }', "NOT_FOUND"),
        ('{ ticket(id: TICKET) { history(after: "bm9wZQ==") { totalCount } } }', "BAD_USER_INPUT"),
        ("{ ticket(id: TICKET) { history(first: 1, last: 1) { totalCount } } }", "BAD_USER_INPUT"),
    ],
)
async def test_expected_field_errors_are_counted_not_logged_as_errors(
    scratch: Deployment,
    factory: Factory,
    caplog: pytest.LogCaptureFixture,
    query: str,
    code: str,
) -> None:
    ticket = await factory.ticket()
    with caplog.at_level(logging.INFO):
        response = await post(scratch.client, f"# {SECRET}\n{query.replace('TICKET', str(ticket))}")

    assert response.status_code == 200
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [code]
    no_error_logs(caplog)
    assert any(
        r.levelno == logging.INFO and r.getMessage().startswith(f"graphql {code} at ")
        for r in caplog.records
    )


async def test_too_many_ids_null_the_field_with_data_null(scratch: Deployment) -> None:
    response = await post(
        scratch.client, "query($ids: [Int!]!) { tickets(ids: $ids) { id } }",
        {"ids": list(range(1, 102))},
    )  # fmt: skip

    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "At most 100 ids per query.",
                "locations": [{"line": 1, "column": 24}],
                "path": ["tickets"],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }


async def test_an_explicit_null_for_a_variable_with_a_default_is_bad_user_input(
    scratch: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await post(
            scratch.client, "query($a: Int = 5) { ticket(id: $a) { id } }", {"a": None}
        )

    assert response.status_code == 200
    assert response.json() == {
        "data": {"ticket": None},
        "errors": [
            {
                "message": "Argument 'id' has invalid value: Expected variable '$a' provided to "
                "non-null type 'Int!' not to be None.",
                "locations": [{"line": 1, "column": 33}],
                "path": ["ticket"],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }
    no_error_logs(caplog)


async def test_an_empty_channel_list_selects_nothing(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    ticket = await factory.ticket()
    query = "query($id: Int!) { ticket(id: $id) { history(filter: {channels: []}) { totalCount "
    query += "nodes { id } } } }"

    response = await post(scratch.client, query, {"id": ticket})

    assert response.json() == {"data": {"ticket": {"history": {"totalCount": 0, "nodes": []}}}}
    # The token, the ticket, the counts (open tickets are never filtered), the access log.
    assert response.headers["X-SQL-Statements"] == "4"
    assert await billing.requests_received() == 0


@pytest.mark.parametrize(
    "arguments",
    ["after: $c, before: $c", "first: 2, before: $c", "last: 2, after: $c", "before: $c"],
)
async def test_a_page_has_one_direction(
    scratch: Deployment, factory: Factory, arguments: str
) -> None:
    ticket = await factory.ticket()
    first = await post(
        scratch.client,
        "query($id: Int!) { ticket(id: $id) { history(first: 1) { pageInfo { endCursor } } } }",
        {"id": ticket},
    )
    cursor = first.json()["data"]["ticket"]["history"]["pageInfo"]["endCursor"]

    response = await post(
        scratch.client,
        f"query($id: Int!, $c: String) {{ ticket(id: $id) {{ history({arguments}) "
        "{ totalCount } } }",
        {"id": ticket, "c": cursor},
    )

    assert response.json()["data"] == {"ticket": None}
    assert [(e["message"], e["extensions"]["code"]) for e in response.json()["errors"]] == [
        ("Pass `after` with `first`, and `before` with `last`.", "BAD_USER_INPUT")
    ]
