"""GraphQL over HTTP: limits answered before any source is touched, transport rules, GraphiQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.graphql.schema import schema
from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.graphql import post

ROOT = Path(__file__).parent.parent


def nested_tickets(levels: int) -> str:
    """A query `levels` tickets deep: 3 fields per level, then `id`."""
    inner = "id"
    for _ in range(levels):
        inner = f"ticket {{ history {{ nodes {{ ... on TicketEvent {{ {inner} }} }} }} }}"
    return "{ " + inner.replace("ticket {", "ticket(id: 1) {", 1) + " }"


def refused(message: str, code: str = "BAD_USER_INPUT") -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def assert_refused_before_any_work(
    scratch: Deployment, billing: BillingAdmin, query: str, message_pattern: str
) -> None:
    response = await post(scratch.client, query)

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert len(body["errors"]) == 1
    assert re.fullmatch(message_pattern, body["errors"][0]["message"])
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert response.headers["X-SQL-Statements"] == "1"  # authenticating the request, no more
    assert response.headers["X-Billing-Calls"] == "0"
    assert await billing.requests_received() == 0


async def test_depth_over_the_limit_is_refused(scratch: Deployment, billing: BillingAdmin) -> None:
    assert (await post(scratch.client, nested_tickets(3))).status_code == 200  # depth 10

    await assert_refused_before_any_work(
        scratch, billing, nested_tickets(4), "'anonymous' exceeds maximum operation depth of 10"
    )


async def test_too_many_aliases_are_refused(scratch: Deployment, billing: BillingAdmin) -> None:
    query = "{ " + " ".join(f"t{n}: ticket(id: {n}) {{ id }}" for n in range(16)) + " }"

    await assert_refused_before_any_work(scratch, billing, query, "16 aliases found. Allowed: 15")


async def test_too_many_tokens_are_refused(scratch: Deployment, billing: BillingAdmin) -> None:
    query = "{ ticket(id: 1) { " + "id " * 2000 + "} }"

    await assert_refused_before_any_work(
        scratch, billing, query, "Syntax Error: Document contains more than 2000 tokens.*"
    )


async def test_syntax_errors_and_unknown_fields_are_400_without_suggestions(
    scratch: Deployment, billing: BillingAdmin
) -> None:
    await assert_refused_before_any_work(
        scratch, billing, "{ ticket(id: 1) { subjec } }",
        "Cannot query field 'subjec' on type 'Ticket'.",
    )  # fmt: skip
    await assert_refused_before_any_work(scratch, billing, "{ ticket(id: ", "Syntax Error: .*")
    await assert_refused_before_any_work(
        scratch, billing, "{ ticket(id: 3000000000) { id } }",
        "Int cannot represent non 32-bit signed integer value: 3000000000",
    )  # fmt: skip


async def test_a_body_over_the_cap_is_413(scratch: Deployment) -> None:
    padding = "#" + "x" * (1024 * 1024)
    response = await scratch.client.post("/graphql", json={"query": padding + "\n{ __typename }"})

    assert response.status_code == 413
    assert response.json() == refused(
        "The request body is over 1048576 bytes.", "PAYLOAD_TOO_LARGE"
    )


async def test_batches_are_refused(scratch: Deployment) -> None:
    response = await scratch.client.post(
        "/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    )

    assert response.status_code == 400
    assert response.json() == refused("Batching is not enabled")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_only_json_posts_execute(scratch: Deployment, content_type: str) -> None:
    response = await scratch.client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"Content-Type": content_type},
    )

    assert response.status_code == 400
    assert response.json() == refused("Unsupported content type")


async def test_queries_over_get_are_refused(scratch: Deployment) -> None:
    response = await scratch.client.get("/graphql", params={"query": "{ __typename }"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_graphiql_is_served_from_the_gateway_itself(scratch: Deployment) -> None:
    page = await scratch.client.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(source.startswith("/assets/") for source in sources)
    for source in sources:
        asset = await scratch.client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 50
    assert (await scratch.client.get("/assets/package.json")).status_code == 404


async def test_production_settings_turn_off_graphiql_and_introspection(
    scratch: Deployment, billing_url: str
) -> None:
    settings = gateway_settings(
        scratch.database_url, billing_url, graphiql=False, introspection=False
    )
    async with serving(create_app(settings), scratch.token) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        asset = await client.get("/assets/graphiql.js")
        introspection = await post(client, "{ __schema { types { name } } }")

    assert page.status_code == 404
    assert asset.status_code == 404
    assert introspection.status_code == 400
    assert "data" not in introspection.json()


def test_schema_graphql_is_the_exported_schema() -> None:
    # Regenerate with: .venv/bin/strawberry export-schema app.graphql.schema:schema > schema.graphql
    assert (ROOT / "schema.graphql").read_text() == schema.as_str() + "\n"
