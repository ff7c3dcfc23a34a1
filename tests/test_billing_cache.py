"""The cross-request billing cache: off by default; on, a contract's events are fetched once per
period, in process or shared through Redis, with hit and miss counts in the metrics."""

from __future__ import annotations

import asyncio
import re

from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event
from tests.support.redis_server import REDIS_TEST_URL, fresh_redis

TOKEN = "metrics-token-for-the-cache"


async def contract_ticket(factory: Factory, billing: BillingAdmin, event_id: int) -> int:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    await billing.set_events(contract, [event(event_id, 1_700_000_000)])
    return await factory.ticket(contract_id=contract, customer_id=customer)


def lookups(exposition: str, result: str) -> float:
    match = re.search(
        rf'^history_gateway_billing_cache_lookups_total\{{result="{result}"\}} (\S+)$',
        exposition,
        flags=re.MULTILINE,
    )
    return float(match.group(1)) if match else 0.0


async def test_off_by_default_every_read_asks_billing(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    ticket = await contract_ticket(factory, billing, 993_001)

    for _ in range(2):
        await scratch.client.get(f"/api/mind/ticket/{ticket}/history")

    assert await billing.requests_received() == 2


async def test_in_process_cache_serves_repeated_reads_until_it_expires(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing, 993_002)
    settings = gateway_settings(
        scratch.database_url, billing_url, billing_cache_seconds=0.3, metrics_token=TOKEN
    )
    async with serving(create_app(settings), scratch.token) as client:
        metrics = {"Authorization": f"Bearer {TOKEN}"}
        before = (await client.get("/metrics", headers=metrics)).text
        bodies = [(await client.get(f"/api/mind/ticket/{ticket}/history")).json() for _ in range(3)]
        after = (await client.get("/metrics", headers=metrics)).text
        await asyncio.sleep(0.35)
        await client.get(f"/api/mind/ticket/{ticket}/history")

    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["total"] == 2
    assert await billing.requests_received() == 2  # once, then again after expiry
    assert lookups(after, "hit") - lookups(before, "hit") == 2
    assert lookups(after, "miss") - lookups(before, "miss") == 1


async def test_failures_are_not_cached(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    ticket = await contract_ticket(factory, billing, 993_003)
    await billing.set_faults(fail_next=2, error_status=503)
    settings = gateway_settings(scratch.database_url, billing_url, billing_cache_seconds=60)
    async with serving(create_app(settings), scratch.token) as client:
        failed = (await client.get(f"/api/mind/ticket/{ticket}/history")).json()
        healed = (await client.get(f"/api/mind/ticket/{ticket}/history")).json()

    assert failed["partial"] is True
    assert "partial" not in healed
    assert healed["total"] == 2


async def test_with_redis_every_worker_shares_the_cache(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    redis = await fresh_redis()
    await redis.aclose()
    ticket = await contract_ticket(factory, billing, 993_004)
    settings = gateway_settings(
        scratch.database_url, billing_url, billing_cache_seconds=60, redis_url=REDIS_TEST_URL
    )
    async with (
        serving(create_app(settings), scratch.token) as first_worker,
        serving(create_app(settings), scratch.token) as second_worker,
    ):
        first = (await first_worker.get(f"/api/mind/ticket/{ticket}/history")).json()
        second = (await second_worker.get(f"/api/mind/ticket/{ticket}/history")).json()

    assert first == second
    assert first["history"][1]["type"] == "gridMessage"
    assert await billing.requests_received() == 1
