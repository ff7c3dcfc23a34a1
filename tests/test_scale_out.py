"""Stateless scale-out: gateway processes sharing PostgreSQL and Redis share sessions, rate
limits and login throttles, and `serve --workers N` reports the metrics of all its workers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.agents import create_agent
from app.db.migrate import upgrade
from app.world.seeder import seed_database
from tests.conftest import SESSION_SECRETS
from tests.support.databases import postgres_database
from tests.support.live_processes import LiveProcess, free_port, live_process
from tests.support.redis_server import REDIS_TEST_URL, fresh_redis

PASSWORD = "scale-out password"
METRICS_TOKEN = "scale-out-metrics-token"


@dataclass
class Shared:
    database_url: str
    email: str


@pytest.fixture(scope="module")
async def shared() -> AsyncIterator[Shared]:
    redis = await fresh_redis()
    await redis.aclose()
    async with postgres_database("scaleout") as url:
        await upgrade(url)
        engine = create_async_engine(url)
        await seed_database(engine, customers=5, seed=3)
        agent = await create_agent(engine, email="scale@example.org", name="S", password=PASSWORD)
        await engine.dispose()
        yield Shared(url, agent.email)


@contextmanager
def gateways(
    shared: Shared, billing_url: str, log_dir: Path, *worker_counts: int
) -> Iterator[list[LiveProcess]]:
    env = {
        "DATABASE_URL": shared.database_url,
        "BILLING_URL": billing_url,
        "SESSION_SECRETS": ",".join(SESSION_SECRETS),
        "SESSION_STORE": "redis",
        "REDIS_URL": REDIS_TEST_URL,
        "COOKIE_SECURE": "false",
        "RATE_LIMIT_REQUESTS": "6",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    with ExitStack() as stack:
        processes = []
        for workers in worker_counts:
            port = free_port()
            processes.append(
                stack.enter_context(
                    live_process(
                        "gateway",
                        ["serve", "--port", str(port), "--workers", str(workers)],
                        port=port,
                        env=env,
                        log_dir=log_dir,
                    )
                )
            )
        yield processes


async def log_in(client: httpx.AsyncClient, url: str, email: str) -> str:
    response = await client.post(
        f"{url}/api/mind/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.headers["set-cookie"].split(";")[0]


async def test_a_session_from_one_process_works_on_another_and_limits_are_shared(
    shared: Shared, billing_url: str, tmp_path: Path
) -> None:
    with gateways(shared, billing_url, tmp_path, 1, 1) as (first, second):
        for process in (first, second):
            await process.wait_ready("/readyz", 20)
        async with httpx.AsyncClient(timeout=10) as client:
            cookie = await log_in(client, first.url, shared.email)
            viewer = await client.post(
                f"{second.url}/graphql",
                json={"query": "{ viewer { email } }"},
                headers={"Cookie": cookie},
            )
            statuses = [
                (
                    await client.get(
                        f"{process.url}/api/mind/ticket/1/history", headers={"Cookie": cookie}
                    )
                ).status_code
                for process in (first, second) * 3
            ]
            await client.post(f"{second.url}/api/mind/auth/logout", headers={"Cookie": cookie})
            after_logout = await client.get(
                f"{first.url}/api/mind/ticket/1/history", headers={"Cookie": cookie}
            )
            # A password spray from one address, over both processes, each attempt claiming
            # another address: uvicorn does not believe X-Forwarded-For from 127.0.0.1 here.
            spray = [
                (
                    await client.post(
                        f"{process.url}/api/mind/auth/login",
                        json={"email": f"victim{n}@example.org", "password": "Sommer2026!"},
                        headers={"X-Forwarded-For": f"192.0.2.{n}"},
                    )
                ).status_code
                for n, process in enumerate((first, second) * 6)
            ]

    assert viewer.json() == {"data": {"viewer": {"email": shared.email}}}
    # 6 requests per session: the viewer query above was the first
    assert statuses == [200, 200, 200, 200, 200, 429]
    assert after_logout.status_code == 401
    assert spray == [401] * 10 + [429] * 2


async def test_metrics_of_several_workers_are_reported_together(
    shared: Shared, billing_url: str, tmp_path: Path
) -> None:
    requests = 12
    with gateways(shared, billing_url, tmp_path, 2) as (process,):
        await process.wait_ready("/readyz", 30)
        for _ in range(requests):
            # A new connection each time, so the kernel spreads them over both workers.
            async with httpx.AsyncClient(timeout=10) as client:
                assert (await client.get(f"{process.url}/healthz")).status_code == 200
        pids = {line for line in process.log_tail(200).splitlines() if "Started server" in line}
        async with httpx.AsyncClient(timeout=10) as client:
            exposition = (
                await client.get(
                    f"{process.url}/metrics",
                    headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                )
            ).text

    assert len(pids) == 2
    counted = re.search(
        r'^history_gateway_http_requests_total\{route="/healthz",status="200"\} (\S+)$',
        exposition,
        flags=re.MULTILINE,
    )
    assert counted is not None
    assert float(counted.group(1)) == requests
