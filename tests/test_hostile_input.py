"""Hostile input: schemathesis fuzzes the REST OpenAPI document and the GraphQL schema.

Every operation of the OpenAPI document the gateway serves, and every root field of
`schema.graphql`, gets schema-conforming and schema-violating requests (schemathesis' examples,
coverage and fuzzing phases, a bounded and derandomized number of examples), sent in process to
a gateway app on the backend under test with a valid API token. Fuzz dictionaries put ids that
exist into about half of the ticket and contract ids, so that answers with data are exercised as
well as `NOT_FOUND`, and known-nasty strings (NUL bytes, SQL, path traversal, ...) into a share
of the strings.

- REST: no 5xx, only documented statuses, every body matching its documented schema
  (`not_a_server_error`, `status_code_conformance`, `response_schema_conformance`).
- GraphQL: no 5xx; only the statuses and `extensions.code` values docs/graphql.md gives for a
  valid session (200 with `data` and errors at a path coded `NOT_FOUND` or `BAD_USER_INPUT`; 400
  with `BAD_USER_INPUT` and no `data`), so never `INTERNAL`; no null in a non-null field
  (`response_schema_conformance`). schemathesis' own `not_a_server_error` is not used for
  GraphQL: it counts the documented `NOT_FOUND` error of an unknown ticket as a server error.

What the fuzz found is also pinned below as plain requests, so that it stays covered whatever
the fuzzer draws.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from app.main import create_app
from tests.conftest import Deployment, gateway_settings
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event

ROOT = Path(__file__).resolve().parent.parent
# The hypothesis profile's (tests/conftest.py): 100 in CI, more with --hypothesis-profile=long.
EXAMPLES = settings.default.max_examples
BASE_URL = "http://gateway.test"
GRAPHQL_URL = f"{BASE_URL}/graphql"
# The rate limit has its own tests; here it would turn a long shrink into 429s.
UNLIMITED = {
    "rate_limit_requests": 1_000_000,
    "login_max_failures": 1_000_000,
    "login_max_failures_per_address": 1_000_000,
}

# Rows with fixed ids, far above the ids `tests.support.factories` hands out, so that the fuzz
# dictionaries, built at import time, can name them.
CUSTOMER_ID = "C-hostile"
CONTRACT_ID = "K-hostile"
CONTRACT_TICKETS = (900_000_001, 900_000_002, 900_000_003)
CUSTOMER_TICKET = 900_000_004  # the customer's, without a contract
LONE_TICKET = 900_000_005  # neither customer nor contract
TICKET_IDS = (*CONTRACT_TICKETS, CUSTOMER_TICKET, LONE_TICKET)
T0 = 1_700_000_000

# No lone surrogates: schemathesis validates dictionary entries as UTF-8 and fails on them.
HOSTILE_STRINGS = [
    "\x00",
    "nul\x00byte",
    "%00%00",
    "' OR '1'='1",
    "'; DROP TABLE tickets; --",
    '"\\\\"',
    "../../../etc/passwd",
    "<script>alert(1)</script>",
    "{{7*7}}${7*7}",
    "\u202eRTL override",
    "Ωμέγα Straße 😀",
    "\r\n\t",
    "x" * 5000,
    "NaN",
    "-1",
    "2147483648",
    CONTRACT_ID,
]
# The known contract, and ids its lookup must answer with `NOT_FOUND`.
CONTRACT_IDS = [CONTRACT_ID, CONTRACT_ID, "K-hostile\x00", "' OR '1'='1", "x" * 5000]

FUZZ = settings(
    print_blob=False,
    # The fixtures are set up once per operation, not per example, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _config(checks: list[str], parameters: dict[str, Any]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "dictionaries": {
                "tickets": {"values": list(TICKET_IDS)},
                "contracts": {"values": CONTRACT_IDS},
                "hostile": {"values": HOSTILE_STRINGS},
            },
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": settings.default.derandomize,
                "dictionaries": {"string": {"dictionary": "hostile", "probability": 0.25}},
            },
            "parameters": parameters,
            "checks": {"enabled": False} | {name: {"enabled": True} for name in checks},
        }
    )


# The document of an app built like the one under test; `test_the_fuzzed_document_is_served`
# checks that it is the one the gateway serves.
DOCUMENT = create_app(gateway_settings("sqlite+aiosqlite:///unused.db", BASE_URL)).openapi()
REST = schemathesis.openapi.from_dict(
    copy.deepcopy(DOCUMENT),
    config=_config(
        ["not_a_server_error", "status_code_conformance", "response_schema_conformance"],
        {
            "path.ticketId": {"dictionary": "tickets", "probability": 0.5},
            "body.email": {"dictionary": "hostile", "probability": 0.3},
            "body.password": {"dictionary": "hostile", "probability": 0.3},
        },
    ),
)
GRAPHQL = schemathesis.graphql.from_path(
    ROOT / "schema.graphql",
    config=_config(
        ["response_schema_conformance"],
        {
            "Query.ticket.id": {"dictionary": "tickets", "probability": 0.5},
            "Query.tickets.ids[*]": {"dictionary": "tickets", "probability": 0.5},
            "Query.contract.id": {"dictionary": "contracts", "probability": 0.6},
            "*.history.filter.channels[*]": {"dictionary": "hostile", "probability": 0.5},
        },
    ),
)
# Filter bounds: instants, nasty strings and any text.
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
        st.sampled_from(HOSTILE_STRINGS),
        st.text(max_size=40),
    ).map(nodes.String),
)


@pytest.fixture(scope="session")
async def known_rows(scratch_deployment: Deployment) -> None:
    """The customer, contract and tickets with the fixed ids, once per backend."""
    factory = Factory(scratch_deployment.engine)
    customer = await factory.customer(id=CUSTOMER_ID)
    contract = await factory.contract(customer, id=CONTRACT_ID)
    statuses = ("open", "pending", "closed")
    for n, (ticket, status) in enumerate(zip(CONTRACT_TICKETS, statuses, strict=True)):
        await factory.ticket(
            id=ticket, customer_id=customer, contract_id=contract, status=status,
            created_at=T0 + n * 3600,
        )  # fmt: skip
    await factory.ticket(id=CUSTOMER_TICKET, customer_id=customer, channel="phone")
    await factory.ticket(id=LONE_TICKET, subject=None)


@pytest.fixture
async def known_world(known_rows: None, billing: BillingAdmin) -> None:
    """The known rows, and billing events for their contract (the simulator resets per test)."""
    await billing.set_events(
        CONTRACT_ID,
        [
            event(3, T0 + 7200),
            event(2, T0 + 3600, kind="delivery", subject="deliveryStart"),
            event(1, T0, role="newSupplier"),
        ],
    )


@pytest.fixture
def gateway(scratch: Deployment, billing_url: str, known_world: None) -> FastAPI:
    """A gateway app on the backend under test; schemathesis runs its lifespan in process."""
    return create_app(gateway_settings(scratch.database_url, billing_url, **UNLIMITED))


@pytest.fixture
def bearer(scratch: Deployment) -> dict[str, str]:
    return {"Authorization": f"Bearer {scratch.token}"}


GRAPHQL_ANSWERS = {
    200: {"NOT_FOUND", "BAD_USER_INPUT"},
    400: {"BAD_USER_INPUT"},
    429: {"RATE_LIMITED"},
}


def assert_documented_graphql_answer(response: schemathesis.Response) -> None:
    """An answer docs/graphql.md describes for a request with a valid session."""
    allowed = GRAPHQL_ANSWERS.get(response.status_code)
    assert allowed is not None, f"undocumented status {response.status_code}: {response.text}"
    body = response.json()
    assert isinstance(body, dict), response.text
    codes = {(error.get("extensions") or {}).get("code") for error in body.get("errors", [])}
    assert codes <= allowed, f"{response.status_code} with codes {codes}: {response.text}"
    if response.status_code in (400, 429):
        assert "data" not in body, response.text
        assert codes, response.text
    elif body.get("data") is None:
        # A non-null root field failed (over 100 `ids`): `data` is null, errors say where.
        assert "data" in body, body
        assert all(error.get("path") for error in body["errors"]), body
    else:
        assert isinstance(body["data"], dict), response.text


async def test_the_fuzzed_document_is_served(scratch: Deployment) -> None:
    response = await scratch.client.get("/openapi.json")

    assert response.json() == DOCUMENT


async def test_the_known_ids_have_data(scratch: Deployment, known_world: None) -> None:
    """The ids the dictionaries put into requests exist: the fuzz reaches answers with data."""
    rest = await scratch.client.get(f"/api/mind/ticket/{CONTRACT_TICKETS[0]}/history")
    graphql = await scratch.client.post(
        "/graphql", json={"query": f'{{ contract(id: "{CONTRACT_ID}") {{ id }} }}'}
    )

    assert (rest.status_code, rest.json()["total"]) == (200, 6)
    assert graphql.json() == {"data": {"contract": {"id": CONTRACT_ID}}}


@REST.parametrize()
@FUZZ
def test_rest_operation_answers_as_documented(
    case: schemathesis.Case[Any], gateway: FastAPI, bearer: dict[str, str]
) -> None:
    response = case.call(app=gateway, headers=bearer, base_url=BASE_URL)

    case.validate_response(response, headers=bearer)


@GRAPHQL.parametrize()
@FUZZ
def test_graphql_field_answers_as_documented(
    case: schemathesis.Case[Any], gateway: FastAPI, bearer: dict[str, str]
) -> None:
    response = case.call(app=gateway, headers=bearer, base_url=GRAPHQL_URL)

    case.validate_response(response, headers=bearer)
    assert_documented_graphql_answer(response)


# Found by the fuzz: a NUL byte in a string that reaches PostgreSQL ("invalid byte sequence for
# encoding UTF8: 0x00") must be an ordinary answer, as it is on SQLite.


def test_a_nul_byte_in_a_login_email_is_an_ordinary_refusal(gateway: FastAPI) -> None:
    case = REST["/api/mind/auth/login"]["POST"].Case(
        body={"email": "a\x00b@example.org", "password": "x"}, media_type="application/json"
    )

    response = case.call(app=gateway, base_url=BASE_URL)

    case.validate_response(response)
    assert response.status_code in (400, 401), response.text


@pytest.mark.parametrize(
    ("field", "query"),
    [
        ("contract", '{ contract(id: "K\\u0000") { id } }'),
        (
            "ticket",
            f'{{ ticket(id: {CONTRACT_TICKETS[0]}) {{ history(filter: {{channels: ["\\u0000"]}})'
            " { totalCount } } }",
        ),
    ],
    ids=["contract-id", "channel-filter"],
)
def test_a_nul_byte_in_a_graphql_string_is_no_internal_error(
    gateway: FastAPI, bearer: dict[str, str], field: str, query: str
) -> None:
    case = GRAPHQL["Query"][field].Case(body=query)

    response = case.call(app=gateway, headers=bearer, base_url=GRAPHQL_URL)

    assert_documented_graphql_answer(response)


# Found by a longer fuzz run: over the rate limit both transports answer 429 `RATE_LIMITED`
# (docs/operations.md), which neither the OpenAPI document nor docs/graphql.md lists.


@pytest.fixture
def rate_limited_gateway(scratch: Deployment, billing_url: str, known_world: None) -> FastAPI:
    """A gateway that allows one data request per token and window."""
    return create_app(gateway_settings(scratch.database_url, billing_url, rate_limit_requests=1))


def test_a_rate_limited_rest_answer_is_documented(
    rate_limited_gateway: FastAPI, bearer: dict[str, str]
) -> None:
    case = REST["/api/mind/ticket/{ticketId}/history"]["GET"].Case(
        path_parameters={"ticketId": CONTRACT_TICKETS[0]}
    )
    case.call(app=rate_limited_gateway, headers=bearer, base_url=BASE_URL)

    response = case.call(app=rate_limited_gateway, headers=bearer, base_url=BASE_URL)

    assert response.status_code == 429
    case.validate_response(response, headers=bearer)


def test_a_rate_limited_graphql_answer_is_documented(
    rate_limited_gateway: FastAPI, bearer: dict[str, str]
) -> None:
    case = GRAPHQL["Query"]["viewer"].Case(body="{ viewer { id } }")
    case.call(app=rate_limited_gateway, headers=bearer, base_url=GRAPHQL_URL)

    response = case.call(app=rate_limited_gateway, headers=bearer, base_url=GRAPHQL_URL)

    assert response.status_code == 429
    assert_documented_graphql_answer(response)
