"""Bounded load, leak and lifecycle tests against real processes (security.md §5 G).

A seeded PostgreSQL database, the billing simulator (`history-gateway billing-simulator`) and the
gateway (`history-gateway serve`) run as separate processes on 127.0.0.1; a fixed number of
REST and GraphQL history reads are sent at a fixed concurrency with one httpx client. The tests
pin outcomes, never speed: no 5xx, exactly how many answers are complete or partial, how many
calls reached the billing backend, how many database connections and file descriptors the
gateway holds afterwards, and that SIGTERM drains the requests in flight.
"""

from __future__ import annotations

import asyncio
import math
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.auth.agents import create_agent
from app.auth.tokens import issue_token
from app.db.migrate import upgrade
from app.world.seeder import seed_database
from tests.support.billing_admin import BillingAdmin
from tests.support.databases import postgres_database
from tests.support.live_processes import LiveProcess, free_port, live_process

WORLD_SEED = 7  # the simulator serves the events of the same world
WORLD_CUSTOMERS = 40
CONCURRENCY = 100
LOAD_REQUESTS = 600
WARM_UP_REQUESTS = CONCURRENCY

DB_POOL_SIZE = 10
BREAKER_FAILURES = 5
BREAKER_OPEN_SECONDS = 1.0
RETRY_BUDGET_RATIO = 0.2
SHUTDOWN_GRACE_SECONDS = 5
# What the gateway runs with; everything else keeps its default.
GATEWAY_SETTINGS = {
    "DEBUG_COUNTERS": "true",
    "RATE_LIMIT_REQUESTS": "100000",
    "DB_POOL_SIZE": str(DB_POOL_SIZE),
    # One worker on this 2-core box serves some 50-90 reads/s, so at concurrency 100 a read
    # queues for over a second in the event loop and for pool connections. The default 2 s
    # pool timeout then sheds some reads with 503, and a 0.5 s billing deadline, which also
    # counts the loop's queueing, expires on a healthy backend. Both are set beyond any wait
    # of this bounded load: these tests pin correctness and bounds, not latency.
    "DB_POOL_TIMEOUT_SECONDS": "15",
    "BILLING_DEADLINE_SECONDS": "5",
    "BILLING_CONNECT_TIMEOUT_SECONDS": "0.2",
    "BILLING_BREAKER_FAILURES": str(BREAKER_FAILURES),
    "BILLING_BREAKER_OPEN_SECONDS": str(BREAKER_OPEN_SECONDS),
    "BILLING_RETRY_BUDGET_RATIO": str(RETRY_BUDGET_RATIO),
    # The bulkhead admits the whole load: a healthy backend must give complete answers only.
    "BILLING_MAX_CONCURRENCY": str(CONCURRENCY),
    "REQUEST_DEADLINE_SECONDS": "20",
    "SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE_SECONDS),
    "LOG_LEVEL": "INFO",  # the SIGTERM test reads uvicorn's shutdown lines
    "SESSION_SECRETS": "load-lifecycle-test-secret-0123456789abcdef",
}
FD_MARGIN = 5
START_SECONDS = 20.0

GRAPHQL_HISTORY = (
    "query($id: Int!) { ticket(id: $id) { history(first: 20) "
    "{ totalCount isComplete nodes { id } } } }"
)


@dataclass(frozen=True)
class World:
    database_url: str
    token: str
    ticket_ids: list[int]  # tickets whose history needs the billing backend


@dataclass(frozen=True)
class Outcome:
    status: int
    kind: str  # "complete", "partial" or "other"
    started_at: float
    finished_at: float


@dataclass
class LoadRun:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    def count(self, kind: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.kind == kind)

    def latency_quantile(self, q: float) -> float:
        latencies = sorted(o.finished_at - o.started_at for o in self.outcomes)
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]


@pytest.fixture(scope="module")
async def world() -> AsyncIterator[World]:
    async with postgres_database("load") as url:
        await upgrade(url)
        engine = create_async_engine(url)
        try:
            await seed_database(engine, customers=WORLD_CUSTOMERS, seed=WORLD_SEED)
            agent = await create_agent(
                engine, email="load@example.org", name="Load", password="load test password"
            )
            issued = await issue_token(engine, email=agent.email, name="load tests")
            async with engine.connect() as connection:
                ticket_ids = list(
                    (
                        await connection.execute(
                            sa.text(
                                "SELECT t.id FROM tickets t WHERE t.contract_id IS NOT NULL "
                                "OR EXISTS (SELECT 1 FROM contracts c "
                                "WHERE c.customer_id = t.customer_id) ORDER BY t.id"
                            )
                        )
                    ).scalars()
                )
        finally:
            await engine.dispose()
        assert len(ticket_ids) >= 50, "the seeded world is too small for a mixed load"
        yield World(url, issued.token, ticket_ids)


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("load-logs")


@pytest.fixture(scope="module")
async def simulator(world: World, log_dir: Path) -> AsyncIterator[BillingAdmin]:
    port = free_port()
    arguments = ["billing-simulator", "--port", str(port), "--seed", str(WORLD_SEED)]
    with live_process(
        "billing-simulator",
        [*arguments, "--fault-control", "--latency-ms", "50"],
        port=port,
        env={},
        log_dir=log_dir,
    ) as process:
        await process.wait_ready("/healthz", START_SECONDS)
        yield BillingAdmin(process.url)


@pytest.fixture
async def billing(simulator: BillingAdmin) -> BillingAdmin:
    """The simulator with fresh counters, healthy but 50 ms slow."""
    await simulator.reset()
    await simulator.set_faults(latency_ms=50)
    return simulator


@asynccontextmanager
async def gateway(world: World, billing: BillingAdmin, log_dir: Path) -> AsyncIterator[LiveProcess]:
    """A fresh gateway process (closed breaker, empty pools), ready to serve."""
    port = free_port()
    env = GATEWAY_SETTINGS | {"DATABASE_URL": world.database_url, "BILLING_URL": billing.base_url}
    with live_process(
        "gateway", ["serve", "--port", str(port)], port=port, env=env, log_dir=log_dir
    ) as process:
        await process.wait_ready("/readyz", START_SECONDS)
        yield process


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def load_client(url: str, token: str, connections: int = CONCURRENCY) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them, as a
        # well-behaved client does: a request sent on a connection the server is closing at
        # that moment fails with ReadError, whatever the server's health.
        limits=httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2.0
        ),
        timeout=httpx.Timeout(30.0, pool=30.0),
    )


async def read_history(
    client: httpx.AsyncClient, number: int, ticket_ids: Sequence[int]
) -> Outcome:
    """Request NUMBER of a load: even ones over REST, odd ones over GraphQL."""
    ticket_id = ticket_ids[number % len(ticket_ids)]
    started = time.monotonic()
    if number % 2 == 0:
        response = await client.get(f"/api/mind/ticket/{ticket_id}/history")
        kind = "other"
        if response.status_code == 200:
            body = response.json()
            if body.get("success") is True:
                kind = "partial" if body.get("partial") is True else "complete"
    else:
        response = await client.post(
            "/graphql", json={"query": GRAPHQL_HISTORY, "variables": {"id": ticket_id}}
        )
        kind = "other"
        if response.status_code == 200:
            body = response.json()
            history = ((body.get("data") or {}).get("ticket") or {}).get("history")
            if "errors" not in body and history is not None:
                kind = "complete" if history["isComplete"] is True else "partial"
    return Outcome(response.status_code, kind, started, time.monotonic())


async def run_load(
    client: httpx.AsyncClient, requests: int, ticket_ids: Sequence[int], concurrency: int
) -> LoadRun:
    """REQUESTS reads, CONCURRENCY of them in flight at any time."""
    numbers = iter(range(requests))
    run = LoadRun()

    async def worker() -> None:
        for number in numbers:
            run.outcomes.append(await read_history(client, number, ticket_ids))

    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    run.seconds = time.monotonic() - started
    return run


async def gateway_connections(database_url: str) -> dict[str, int]:
    """The gateway's PostgreSQL connections to DATABASE_URL, by state."""
    engine = create_async_engine(database_url)
    try:
        return await _connections_by_state(engine)
    finally:
        await engine.dispose()


async def _connections_by_state(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'history-gateway' "
                "GROUP BY 1"
            )
        )
        return {str(state): int(count) for state, count in rows}


@asynccontextmanager
async def peak_connections(database_url: str) -> AsyncIterator[list[int]]:
    """Sample the gateway's connection count while the block runs; yields [peak]."""
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    peak = [0]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], sum((await _connections_by_state(engine)).values()))
            await asyncio.sleep(0.1)

    task = asyncio.create_task(sample())
    try:
        yield peak
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


async def quiet_fds(process: LiveProcess, peers: dict[str, int]) -> Counter[str]:
    """The gateway's fds by kind once no client connection to it is left open."""
    deadline = time.monotonic() + 5
    while True:
        kinds = process.fds_by_peer(peers)
        # Only the listening socket is left: closed client connections have been reaped.
        if kinds["served"] <= 1 or time.monotonic() > deadline:
            return kinds
        await asyncio.sleep(0.05)


def summary(run: LoadRun) -> str:
    return (
        f"{len(run.outcomes)} requests in {run.seconds:.2f} s "
        f"(p50 {run.latency_quantile(0.5):.2f} s, p99 {run.latency_quantile(0.99):.2f} s): "
        f"statuses {run.statuses()}, complete {run.count('complete')}, "
        f"partial {run.count('partial')}, other {run.count('other')}"
    )


def logged_errors(process: LiveProcess) -> list[str]:
    """Log lines telling of an error, a traceback or an unclosed resource."""
    markers = ("Traceback", "ERROR", "CRITICAL", "Unclosed", "never awaited")
    text = process.log_path.read_text(errors="replace")
    return [line for line in text.splitlines() if any(m in line for m in markers)]


async def wait_for_no_connections(database_url: str, seconds: float) -> dict[str, int]:
    """The gateway's connections, polled until there are none or SECONDS pass."""
    deadline = time.monotonic() + seconds
    while True:
        left = await gateway_connections(database_url)
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.1)


async def test_a_healthy_slow_backend_gives_complete_answers_and_nothing_leaks(
    world: World, billing: BillingAdmin, log_dir: Path
) -> None:
    async with gateway(world, billing, log_dir) as process:
        peers = {"billing": port_of(billing.base_url), "database": port_of(world.database_url)}
        # One burst fills what is meant to stay: idle pooled database connections and
        # keep-alive connections to the backend. Then the baseline.
        async with load_client(process.url, world.token) as client:
            warm_up = await run_load(client, WARM_UP_REQUESTS, world.ticket_ids, CONCURRENCY)
        assert warm_up.count("complete") == WARM_UP_REQUESTS, summary(warm_up)
        baseline = await quiet_fds(process, peers)
        await billing.reset()
        await billing.set_faults(latency_ms=50)

        async with (
            peak_connections(world.database_url) as peak,
            load_client(process.url, world.token) as client,
        ):
            run = await run_load(client, LOAD_REQUESTS, world.ticket_ids, CONCURRENCY)

        print(f"healthy: {summary(run)}; peak DB connections {peak[0]}")
        assert run.statuses() == {200: LOAD_REQUESTS}, summary(run)
        assert run.count("complete") == LOAD_REQUESTS, summary(run)
        # One billing call per read: every scope here has contracts, none over 100.
        assert await billing.requests_received() == LOAD_REQUESTS

        # The engine's bound is pool_size + max_overflow (= pool_size); afterwards no
        # connection is checked out inside a transaction.
        assert 0 < peak[0] <= DB_POOL_SIZE
        after = await gateway_connections(world.database_url)
        assert sum(after.values()) <= DB_POOL_SIZE, after
        assert set(after) == {"idle"}, after

        # Idle keep-alive connections to the backend may stay (httpx closes them lazily, 5 s
        # after their last use), up to the client's pool bound; every other fd is back to the
        # baseline. A leaked response would keep its connection checked out, and the pool,
        # exhausted, would have turned later reads partial.
        fds = await quiet_fds(process, peers)
        print(f"fds: baseline {dict(baseline)}, after {dict(fds)}")
        assert fds["served"] == 1, fds
        assert fds["billing"] <= CONCURRENCY, fds
        assert fds["database"] <= DB_POOL_SIZE, fds
        settled, before = fds.total() - fds["billing"], baseline.total() - baseline["billing"]
        assert abs(settled - before) <= FD_MARGIN, (baseline, fds)
        assert logged_errors(process) == []


async def test_a_failing_backend_gives_partial_answers_and_the_breaker_bounds_its_calls(
    world: World, billing: BillingAdmin, log_dir: Path
) -> None:
    await billing.set_faults(latency_ms=50, error_rate=1.0, error_status=503)
    async with gateway(world, billing, log_dir) as process:
        async with (
            peak_connections(world.database_url) as peak,
            load_client(process.url, world.token) as client,
        ):
            run = await run_load(client, LOAD_REQUESTS, world.ticket_ids, CONCURRENCY)
        hits = await billing.requests_received()

        print(f"failing: {summary(run)}; billing hits {hits}; peak DB connections {peak[0]}")
        assert run.statuses() == {200: LOAD_REQUESTS}, summary(run)
        assert run.count("partial") == LOAD_REQUESTS, summary(run)

        # Calls reaching the backend. While the breaker is closed every read may start one, and
        # up to CONCURRENCY can be in flight before the first has failed (the breaker counts
        # failures when they end); it opens at the BREAKER_FAILURES-th failure, by which time
        # at most BREAKER_FAILURES - 1 of those reads have ended and been replaced by new ones.
        # While open it lets one probe through per BREAKER_OPEN_SECONDS (a failed probe
        # reopens it): at most floor(run time / open time) + 1 probes. Each call makes at most
        # two attempts, retries being capped by the budget: max(3, ratio x calls) in its 10 s
        # window. Without the breaker every one of the LOAD_REQUESTS reads would call.
        calls = (
            CONCURRENCY + BREAKER_FAILURES - 1 + math.floor(run.seconds / BREAKER_OPEN_SECONDS) + 1
        )
        bound = calls + max(3, int(RETRY_BUDGET_RATIO * calls))
        assert bound < LOAD_REQUESTS
        assert BREAKER_FAILURES <= hits <= bound, (hits, bound, run.seconds)

        assert 0 < peak[0] <= DB_POOL_SIZE
        after = await gateway_connections(world.database_url)
        assert sum(after.values()) <= DB_POOL_SIZE, after
        assert set(after) == {"idle"}, after
        assert logged_errors(process) == []


SIGTERM_REQUESTS = 50
SIGTERM_BILLING_LATENCY_MS = 1000  # longer than it takes all reads to reach the backend


async def test_sigterm_drains_the_requests_in_flight_and_exits_cleanly(
    world: World, billing: BillingAdmin, log_dir: Path
) -> None:
    await billing.set_faults(latency_ms=SIGTERM_BILLING_LATENCY_MS)
    async with (
        gateway(world, billing, log_dir) as process,
        load_client(process.url, world.token, SIGTERM_REQUESTS) as client,
    ):
        reads = [
            asyncio.create_task(read_history(client, number, world.ticket_ids))
            for number in range(SIGTERM_REQUESTS)
        ]
        try:
            # A read is in flight once the backend has seen its (slow) call.
            deadline = time.monotonic() + 10
            while await billing.requests_received() < SIGTERM_REQUESTS:
                assert time.monotonic() < deadline, "the reads never reached the backend"
                await asyncio.sleep(0.01)
            process.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            outcomes = await asyncio.gather(*reads)
        finally:
            for read in reads:
                read.cancel()
            await asyncio.gather(*reads, return_exceptions=True)
        status = await process.wait_exit(SHUTDOWN_GRACE_SECONDS + 3)
        exited = time.monotonic() - signalled

        in_flight = sum(1 for outcome in outcomes if outcome.finished_at > signalled)
        print(f"sigterm: {in_flight} in flight, exit status {status} after {exited:.2f} s")
        assert in_flight > SIGTERM_REQUESTS // 2
        assert [o.status for o in outcomes] == [200] * SIGTERM_REQUESTS
        assert [o.kind for o in outcomes] == ["complete"] * SIGTERM_REQUESTS
        assert status is not None, f"still running: {process.describe()}"
        assert exited <= SHUTDOWN_GRACE_SECONDS + 3
        # The lifespan ran to its end: engine disposed, billing client closed.
        assert "Application shutdown complete" in process.log_tail(), process.describe()
        assert logged_errors(process) == []
        assert status == 0, process.describe()
    assert await wait_for_no_connections(world.database_url, 3.0) == {}


async def test_an_idle_serve_ends_with_exit_status_zero_on_sigterm(
    world: World, billing: BillingAdmin, log_dir: Path
) -> None:
    async with gateway(world, billing, log_dir) as process:
        process.process.send_signal(signal.SIGTERM)
        status = await process.wait_exit(SHUTDOWN_GRACE_SECONDS + 3)
        assert status == 0
