"""Broken HTTP framing from the billing backend: a partial answer with the right warning, counted
by the circuit breaker, on both billing transports (aiohttp's pool and httpcore's) and through
both of the gateway's transports (REST and GraphQL).

The simulator writes these answers on the raw connection (`app.billing.simulator.raw_wire`):
a bad status line is a malformed answer; a body shorter than its Content-Length, a chunked
body cut inside a chunk and headers followed by a closed connection are answers broken off.
"""

from __future__ import annotations

import pytest

from tests.conftest import Deployment
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory
from tests.test_billing_resilience import contract_ticket, gateway

FRAMINGS = [
    ("bad_status_line", "UPSTREAM_BAD_RESPONSE"),
    ("short_body", "UPSTREAM_UNAVAILABLE"),
    ("cut_chunk", "UPSTREAM_UNAVAILABLE"),
    ("closed_after_headers", "UPSTREAM_UNAVAILABLE"),
]
TRANSPORTS = ["aiohttp", "httpcore"]
WARNINGS_QUERY = (
    "query($id: Int!) { ticket(id: $id) { history { totalCount isComplete missingSources "
    "warnings { source code } } } }"
)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("framing", "code"), FRAMINGS)
async def test_broken_framing_is_a_partial_answer_counted_by_the_breaker(
    scratch: Deployment,
    factory: Factory,
    billing: BillingAdmin,
    billing_url: str,
    transport: str,
    framing: str,
    code: str,
) -> None:
    ticket = await contract_ticket(factory, billing)
    await billing.set_faults(framing=framing)
    async with gateway(
        scratch, billing_url, billing_transport=transport, billing_breaker_failures=2
    ) as client:
        rest = await client.get(f"/api/mind/ticket/{ticket}/history")
        graphql = await client.post(
            "/graphql", json={"query": WARNINGS_QUERY, "variables": {"id": ticket}}
        )
        assert await billing.requests_received() == 2
        # Two failures opened the breaker: the third read does not ask the backend.
        after = await client.get(f"/api/mind/ticket/{ticket}/history")

    assert rest.status_code == 200
    assert rest.json()["partial"] is True
    assert [(w["source"], w["code"]) for w in rest.json()["warnings"]] == [("billing", code)]
    assert graphql.status_code == 200
    assert graphql.json() == {
        "data": {
            "ticket": {
                "history": {
                    "totalCount": 1,
                    "isComplete": False,
                    "missingSources": ["BILLING"],
                    "warnings": [{"source": "BILLING", "code": code}],
                }
            }
        }
    }
    assert after.json()["warnings"][0]["code"] == "UPSTREAM_UNAVAILABLE"
    assert await billing.requests_received() == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_healthy_backend_answers_in_full_on_either_transport(
    scratch: Deployment,
    factory: Factory,
    billing: BillingAdmin,
    billing_url: str,
    transport: str,
) -> None:
    ticket = await contract_ticket(factory, billing)
    async with gateway(scratch, billing_url, billing_transport=transport) as client:
        response = await client.get(f"/api/mind/ticket/{ticket}/history")

    assert response.status_code == 200
    assert response.json()["total"] == 2
    assert "partial" not in response.json()
