"""The billing client under real faults from the simulator: deadlines, retries, budget, breaker,
bulkhead. Each test builds an app with short, test-sized settings and counts backend hits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.billing.breaker import BreakerState, CircuitBreaker
from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event

FAST = {
    "billing_deadline_seconds": 0.6,
    "billing_connect_timeout_seconds": 0.2,
    "billing_retry_backoff_seconds": 0.02,
    "billing_retry_after_cap_seconds": 0.05,
}


@asynccontextmanager
async def gateway(
    scratch: Deployment, billing_url: str, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gateway_settings(scratch.database_url, billing_url, **(FAST | settings)))
    async with serving(app, scratch.token) as client:
        yield client


async def contract_ticket(factory: Factory, billing: BillingAdmin) -> int:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    await billing.set_events(
        contract, [event(990_000 + int(time.time_ns() % 9_000), 1_700_000_000)]
    )
    return await factory.ticket(contract_id=contract, customer_id=customer)


async def read(client: httpx.AsyncClient, ticket: int) -> tuple[str | None, float]:
    """The warning code of one REST read (None when complete) and how long it took."""
    started = time.monotonic()
    response = await client.get(f"/api/mind/ticket/{ticket}/history")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    warnings = response.json().get("warnings", [])
    return (warnings[0]["code"] if warnings else None), elapsed


async def test_a_hang_or_a_drip_is_cut_by_the_total_deadline_and_not_retried(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing)
    async with gateway(scratch, billing_url) as client:
        for faults in ({"hang": True}, {"drip_bytes_per_second": 5}):
            await billing.reset()
            await billing.set_faults(**faults)

            code, elapsed = await read(client, ticket)

            assert code == "UPSTREAM_TIMEOUT", faults
            assert 0.5 <= elapsed < 0.6 + 1.0, faults
            assert await billing.requests_received() == 1, faults


async def test_one_503_is_retried_and_the_answer_is_complete(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing)
    await billing.set_faults(fail_next=1, error_status=503)
    async with gateway(scratch, billing_url) as client:
        code, elapsed = await read(client, ticket)

    assert code is None
    assert await billing.requests_received() == 2
    assert elapsed < 0.5


async def test_lasting_503_or_429_gives_two_hits_then_unavailable(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing)
    async with gateway(scratch, billing_url) as client:
        for status in (503, 429, 502):
            await billing.reset()
            await billing.set_faults(error_rate=1.0, error_status=status)

            code, elapsed = await read(client, ticket)

            assert code == "UPSTREAM_UNAVAILABLE", status
            assert await billing.requests_received() == 2, status
            assert elapsed < 0.5, status  # 429's Retry-After: 1 is capped at 0.05 s


async def test_answers_that_another_try_cannot_fix_are_not_retried(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing)
    cases = [
        ({"malformed": True}, "UPSTREAM_BAD_RESPONSE"),
        ({"oversize_bytes": 200_000}, "UPSTREAM_BAD_RESPONSE"),
        ({"reset": True}, "UPSTREAM_UNAVAILABLE"),
        ({"error_rate": 1.0, "error_status": 500}, "UPSTREAM_UNAVAILABLE"),
        ({"error_rate": 1.0, "error_status": 401}, "UPSTREAM_BAD_RESPONSE"),
    ]
    async with gateway(scratch, billing_url, billing_max_response_bytes=100_000) as client:
        for faults, expected in cases:
            await billing.reset()
            await billing.set_faults(**faults)

            code, _ = await read(client, ticket)

            assert code == expected, faults
            assert await billing.requests_received() == 1, faults


async def test_a_refused_connection_is_retried_once_and_answers_fast(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    ticket = await contract_ticket(factory, billing)
    async with gateway(scratch, "http://127.0.0.1:1") as client:
        response = await client.get(f"/api/mind/ticket/{ticket}/history")

    assert response.json()["warnings"][0]["code"] == "UPSTREAM_UNAVAILABLE"
    assert response.headers["X-Billing-Calls"] == "2"


async def test_the_breaker_opens_fails_fast_probes_and_closes(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing)
    await billing.set_faults(error_rate=1.0, error_status=500)
    async with gateway(
        scratch, billing_url, billing_breaker_failures=3, billing_breaker_open_seconds=0.4
    ) as client:
        for _ in range(3):
            assert (await read(client, ticket))[0] == "UPSTREAM_UNAVAILABLE"
        assert await billing.requests_received() == 3

        for _ in range(20):
            code, elapsed = await read(client, ticket)
            assert code == "UPSTREAM_UNAVAILABLE"
            assert elapsed < 0.5  # below the 0.6 s deadline: nothing was waited for
        assert await billing.requests_received() == 3  # open: not asked at all

        await asyncio.sleep(0.45)
        assert (await read(client, ticket))[0] == "UPSTREAM_UNAVAILABLE"  # the probe fails
        assert await billing.requests_received() == 4
        assert (await read(client, ticket))[0] == "UPSTREAM_UNAVAILABLE"  # reopened
        assert await billing.requests_received() == 4

        await billing.reset()
        await asyncio.sleep(0.45)
        assert (await read(client, ticket))[0] is None  # the probe succeeds: closed
        assert (await read(client, ticket))[0] is None
        assert await billing.requests_received() == 2


async def test_refusals_for_our_own_mistakes_do_not_open_the_breaker(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing)
    await billing.set_faults(error_rate=1.0, error_status=401)
    async with gateway(scratch, billing_url, billing_breaker_failures=2) as client:
        for _ in range(5):
            await read(client, ticket)

    assert await billing.requests_received() == 5


async def test_retries_stay_within_the_budget(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing)
    await billing.set_faults(error_rate=1.0, error_status=503)
    async with gateway(scratch, billing_url, billing_retry_budget_ratio=0.2) as client:
        for _ in range(20):
            await read(client, ticket)

    # 20 calls; retries: at least 3 per window, else 20 % of the calls: 4
    assert await billing.requests_received() == 24


async def test_the_bulkhead_caps_concurrent_calls_and_refuses_the_rest_fast(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    tickets = [await contract_ticket(factory, billing) for _ in range(6)]
    await billing.set_faults(hang=True)
    async with gateway(
        scratch, billing_url, billing_max_concurrency=2, billing_queue_wait_seconds=0.05
    ) as client:
        results = await asyncio.gather(*(read(client, ticket) for ticket in tickets))

    codes = sorted(code or "" for code, _ in results)
    assert codes == ["UPSTREAM_TIMEOUT"] * 2 + ["UPSTREAM_UNAVAILABLE"] * 4
    assert all(elapsed < 0.5 for code, elapsed in results if code == "UPSTREAM_UNAVAILABLE")
    assert await billing.requests_received() == 2


def test_breaker_states_with_a_fake_clock() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures_to_open=2, open_seconds=10, clock=lambda: now[0])

    breaker.failed()
    assert breaker.state is BreakerState.CLOSED
    breaker.failed()
    assert (breaker.state, breaker.allow()) == (BreakerState.OPEN, False)
    now[0] = 10.0
    assert breaker.allow() is True  # the probe
    assert breaker.allow() is False  # only one
    breaker.released()
    assert breaker.allow() is True  # a probe that ended without a verdict frees the slot
    breaker.succeeded()
    assert (breaker.state, breaker.allow()) == (BreakerState.CLOSED, True)
