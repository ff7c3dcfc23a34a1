"""Rate limits, the request deadline, readiness, and recovering from a database outage."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.databases import postgres_database
from tests.support.factories import Factory, event
from tests.support.redis_server import REDIS_TEST_URL, fresh_redis
from tests.support.tcp_proxy import TcpProxy

VIEWER = {"query": "{ viewer { id } }"}


async def test_each_token_or_session_has_a_request_budget(
    scratch: Deployment, factory: Factory, billing_url: str
) -> None:
    ticket = await factory.ticket()
    settings = gateway_settings(scratch.database_url, billing_url, rate_limit_requests=3)
    async with serving(create_app(settings), scratch.token) as client:
        answers = [await client.get(f"/api/mind/ticket/{ticket}/history") for _ in range(3)]
        rest = await client.get(f"/api/mind/ticket/{ticket}/history")
        graphql = await client.post("/graphql", json=VIEWER)

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert rest.status_code == 429
    assert rest.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(rest.headers["Retry-After"]) <= 60
    assert graphql.status_code == 429
    assert graphql.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED"}
    assert "data" not in graphql.json()


async def test_with_redis_the_budget_is_shared_by_every_worker(
    scratch: Deployment, billing_url: str
) -> None:
    redis = await fresh_redis()
    await redis.aclose()
    settings = gateway_settings(
        scratch.database_url, billing_url, rate_limit_requests=4, redis_url=REDIS_TEST_URL
    )
    async with (
        serving(create_app(settings), scratch.token) as first_worker,
        serving(create_app(settings), scratch.token) as second_worker,
    ):
        statuses = [
            (await worker.post("/graphql", json=VIEWER)).status_code
            for worker in (first_worker, second_worker) * 3
        ]

    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_a_request_over_the_deadline_is_cut_with_503(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    await billing.set_events(contract, [event(991_001, 1_700_000_000)])
    ticket = await factory.ticket(contract_id=contract, customer_id=customer)
    await billing.set_faults(hang=True)
    settings = gateway_settings(
        scratch.database_url, billing_url, request_deadline_seconds=0.3,
        billing_deadline_seconds=5,
    )  # fmt: skip
    async with serving(create_app(settings), scratch.token) as client:
        started = time.monotonic()
        rest = await client.get(f"/api/mind/ticket/{ticket}/history")
        elapsed = time.monotonic() - started

    assert rest.status_code == 503
    assert rest.json() == {
        "success": False,
        "code": "SERVICE_UNAVAILABLE",
        "error": "The request took longer than 0.3 s.",
    }
    assert rest.headers["X-Request-ID"]
    assert 0.3 <= elapsed < 1.5


async def test_readiness_reports_billing_but_never_turns_unready_for_it(
    scratch: Deployment, billing_url: str, unreachable_database_url: str
) -> None:
    async with serving(create_app(gateway_settings(scratch.database_url, billing_url))) as client:
        healthy = await client.get("/readyz")
    no_billing = gateway_settings(scratch.database_url, "http://127.0.0.1:1")
    async with serving(create_app(no_billing)) as client:
        billing_down = await client.get("/readyz")
        alive = await client.get("/healthz")
    async with serving(create_app(gateway_settings(unreachable_database_url, billing_url))) as c:
        database_down = await c.get("/readyz")

    assert (healthy.status_code, healthy.json()) == (
        200,
        {
            "status": "ready",
            "checks": {
                "database": "ok",
                "sessionStore": "ok",
                "billing": "ok",
                "billingBreaker": "closed",
            },
        },
    )
    assert billing_down.status_code == 200
    assert billing_down.json()["checks"]["billing"] == "down"
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert database_down.status_code == 503
    assert database_down.json()["status"] == "unready"


async def test_the_service_recovers_by_itself_when_the_database_returns(
    billing_url: str,
) -> None:
    async with postgres_database("outage") as url:
        from sqlalchemy.ext.asyncio import create_async_engine

        from app.db.migrate import upgrade
        from tests.conftest import new_agent

        await upgrade(url)
        engine = create_async_engine(url)
        _, token = await new_agent(engine)
        await engine.dispose()
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        await proxy.start()
        proxied = url.replace(f":{parts.port}/", f":{proxy.port}/")
        settings = gateway_settings(proxied, billing_url, db_pool_timeout_seconds=0.5)
        async with serving(create_app(settings), token) as client:
            before = await client.post("/graphql", json=VIEWER)
            await proxy.cut()
            started = time.monotonic()
            during = await client.post("/graphql", json=VIEWER)
            elapsed = time.monotonic() - started
            await proxy.start()
            after = await client.post("/graphql", json=VIEWER)
            # A restart while idle: the closed connections are replaced on checkout, so the
            # first request afterwards already succeeds.
            await proxy.cut()
            await asyncio.sleep(0.1)
            await proxy.start()
            after_idle_restart = await client.post("/graphql", json=VIEWER)
        await proxy.cut()

    assert before.status_code == 200
    assert during.status_code == 503
    assert during.json()["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert elapsed < 2.0
    assert after.status_code == 200
    assert "viewer" in after.json()["data"]
    assert after_idle_restart.status_code == 200
    assert "viewer" in after_idle_restart.json()["data"]
