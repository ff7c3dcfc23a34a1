"""Hostile requests, generated: whatever a client sends, the answer is a coded error or data,
never a 5xx, and the worker stays responsive.

Hypothesis sends, in process, to a gateway app with a valid API token: arbitrary JSON bodies and
byte soup to `/graphql`, the login route and the REST path; valid documents generated from the
schema (hypothesis-graphql) with variables of every wrong type; token soup; and chains of
fragments spreading each other (each visited once by the limit rules). Every answer must have the
error body of its path's transport (design §8) with a documented code. Seeded and bounded for CI
(the `ci` profile); `--hypothesis-profile=long` runs many more examples, unseeded
(docs/operations.md has a long run's figures). Finally a real uvicorn server takes a burst of the
worst of these while `/healthz` must still answer within 100 ms.
"""

from __future__ import annotations

import asyncio
import json
import string
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from app.graphql.schema import sdl_schema
from app.main import create_app
from tests.conftest import Deployment, client_of, gateway_settings
from tests.support.servers import serve_in_thread

# Limits lifted so that the fuzz reaches the code behind them (they have their own tests).
UNLIMITED = {
    "rate_limit_requests": 10**9,
    "login_max_failures": 10**9,
    "login_max_failures_per_address": 10**9,
}
REST_CODES = {
    400: {"BAD_USER_INPUT"},
    401: {"UNAUTHENTICATED"},
    404: {"NOT_FOUND"},
    405: {"METHOD_NOT_ALLOWED"},
}
GRAPHQL_FIELD_CODES = {"NOT_FOUND", "BAD_USER_INPUT"}
JSON = {"Content-Type": "application/json"}


def as_json(value: object) -> bytes:
    """JSON as a client may send it: integers of any size included."""
    return json.dumps(value).encode()


CREDENTIALS = ["email", "password"]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
GRAPHQL_KEYS = st.sampled_from(["query", "variables", "operationName", "extensions"])
REQUEST_LIKE = st.dictionaries(GRAPHQL_KEYS, JSON_VALUES, max_size=4)
TOKENS = st.sampled_from(
    ["{", "}", "(", ")", "[", "]", ":", "...", "$", "@", "!", "=", "query", "fragment", "on",
     "ticket", "tickets", "viewer", "history", "id", "first", "F", "Ticket", "Agent", "1", '"x"',
     "#", "\n", " ", "\\u0000"]
)  # fmt: skip
TYPED_OPERATIONS = [
    ("query($id: Int!) { ticket(id: $id) { id } }", "id"),
    ("query($ids: [Int!]!) { tickets(ids: $ids) { id } }", "ids"),
    ("query($id: ID!) { contract(id: $id) { id } }", "id"),
    ("query($n: Int) { viewer { id } ticket(id: 1) { history(first: $n) { totalCount } } }", "n"),
    ("query($c: String) { ticket(id: 1) { history(after: $c) { totalCount } } }", "c"),
    (
        "query($f: HistoryFilterInput) { ticket(id: 1) { history(filter: $f) { totalCount } } }",
        "f",
    ),
]


@pytest.fixture
async def client(scratch: Deployment, billing_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gateway_settings(scratch.database_url, billing_url, **UNLIMITED))
    async with LifespanManager(app) as manager, client_of(manager.app, scratch.token) as client:
        yield client


# The client fixture is made once per test, not per example, on purpose.
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HALF = settings(FUZZ, max_examples=max(1, settings.default.max_examples // 2))


def assert_rest_error_shape(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert list(body) == ["success", "code", "error"], body
        assert body["success"] is False
        assert body["code"] in REST_CODES.get(response.status_code, {"RATE_LIMITED"}), body


def assert_graphql_shape(response: httpx.Response) -> None:
    assert response.status_code in (200, 400), response.text
    body = response.json()
    codes = {error["extensions"]["code"] for error in body.get("errors", [])}
    if response.status_code == 400:
        assert "data" not in body, body
        assert codes == {"BAD_USER_INPUT"}, body
    else:
        assert "data" in body, body
        assert codes <= GRAPHQL_FIELD_CODES, body
    assert all(isinstance(error["message"], str) for error in body.get("errors", [])), body


@HALF
@given(body=st.one_of(JSON_VALUES, REQUEST_LIKE))
async def test_any_json_body_to_graphql_is_answered_in_shape(
    client: httpx.AsyncClient, body: object
) -> None:
    response = await client.post("/graphql", content=as_json(body), headers=JSON)

    assert_graphql_shape(response)


@HALF
@given(soup=st.binary(max_size=200))
async def test_byte_soup_is_answered_in_shape_on_every_route(
    client: httpx.AsyncClient, soup: bytes
) -> None:
    graphql = await client.post("/graphql", content=soup, headers=JSON)
    login = await client.post("/api/mind/auth/login", content=soup, headers=JSON)

    assert_graphql_shape(graphql)
    assert_rest_error_shape(login)
    assert login.status_code in (400, 401)


@FUZZ
@given(
    body=st.one_of(
        JSON_VALUES, st.dictionaries(st.sampled_from(["email", "password"]), JSON_VALUES)
    )
)
async def test_any_login_body_is_a_coded_refusal(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/api/mind/auth/login", content=as_json(body), headers=JSON)

    assert_rest_error_shape(response)
    assert response.status_code in (400, 401)


@FUZZ
@given(
    ticket=st.text(alphabet=string.printable, min_size=1, max_size=12),
    query=st.dictionaries(st.sampled_from(["limit", "offset", "x"]), st.text(max_size=12)),
)
async def test_any_rest_path_and_parameters_are_answered_as_documented(
    client: httpx.AsyncClient, ticket: str, query: dict[str, str]
) -> None:
    path = f"/api/mind/ticket/{quote(ticket, safe='')}/history"
    response = await client.get(path, params=query)

    assert_rest_error_shape(response)


@FUZZ
@given(operation=st.sampled_from(TYPED_OPERATIONS), value=JSON_VALUES)
async def test_variables_of_every_type_are_data_or_bad_user_input(
    client: httpx.AsyncClient, operation: tuple[str, str], value: object
) -> None:
    document, name = operation
    body = {"query": document, "variables": {name: value}}
    response = await client.post("/graphql", content=as_json(body), headers=JSON)

    assert_graphql_shape(response)


@HALF
@given(document=queries(sdl_schema().as_str(), allow_x00=False))
async def test_documents_generated_from_the_schema_are_data_or_bad_user_input(
    client: httpx.AsyncClient, document: str
) -> None:
    response = await client.post("/graphql", json={"query": document})

    assert_graphql_shape(response)


@FUZZ
@given(tokens=st.lists(TOKENS, max_size=60))
async def test_token_soup_is_bad_user_input(client: httpx.AsyncClient, tokens: list[str]) -> None:
    response = await client.post("/graphql", json={"query": " ".join(tokens)})

    assert_graphql_shape(response)


@st.composite
def fragment_graphs(draw: st.DrawFn) -> str:
    """Fragments on Agent spreading later ones (any number of times, with aliases now and then):
    expansions up to (spreads per fragment)^(fragments)."""
    count = draw(st.integers(min_value=1, max_value=40))
    fragments = []
    for n in range(count):
        later = list(range(n + 1, count))
        spreads = draw(st.lists(st.sampled_from(later), max_size=3)) if later else []
        fields = draw(st.sampled_from(["id", "a: id", "name", "__typename"]))
        body = " ".join([fields, *(f"...F{target}" for target in spreads)])
        fragments.append(f"fragment F{n} on Agent {{ {body} }}")
    return "query { viewer { ...F0 } } " + " ".join(fragments)


@FUZZ
@given(document=fragment_graphs())
async def test_fragment_graphs_are_measured_without_expanding_them(
    client: httpx.AsyncClient, document: str
) -> None:
    response = await client.post("/graphql", json={"query": document})

    assert_graphql_shape(response)


WORST = [
    {"query": "query { viewer { ...F0 } } "
     + " ".join(f"fragment F{n} on Agent {{ ...F{n + 1} ...F{n + 1} }}" for n in range(30))
     + " fragment F30 on Agent { id }"},
    b"[" * 100_000,
    b'{"query": "{ viewer { id } }", "variables": {"x": ' + b"9" * 5000 + b"}}",
    b'{"query": "\xff\xfe"}',
    b"null",
]  # fmt: skip


@pytest.fixture
def live_gateway(scratch: Deployment, billing_url: str) -> Iterator[str]:
    app: FastAPI = create_app(gateway_settings(scratch.database_url, billing_url, **UNLIMITED))
    with serve_in_thread(app) as url:
        yield url


async def test_the_worker_answers_health_fast_after_a_hostile_burst(
    live_gateway: str, scratch: Deployment
) -> None:
    headers = {"Authorization": f"Bearer {scratch.token}", **JSON}
    async with httpx.AsyncClient(base_url=live_gateway, timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/graphql",
                    content=body if isinstance(body, bytes) else as_json(body),
                    headers=headers,
                )
                for body in WORST * 8
            )
        )
        fastest = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (fastest is None or fastest >= 0.1):
            started = time.perf_counter()
            health = await client.get("/healthz")
            assert health.status_code == 200
            elapsed = time.perf_counter() - started
            fastest = elapsed if fastest is None else min(fastest, elapsed)

    assert [answer.status_code for answer in answers] == [400] * len(WORST) * 8
    assert fastest is not None
    assert fastest < 0.1
