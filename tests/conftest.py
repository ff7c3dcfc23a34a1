"""Fixtures: every backend (SQLite, PostgreSQL), the billing simulator over real HTTP, the gateway.

Two databases per backend: `scratch`, where tests write exactly the rows they reason about, and
`world`, a seeded realistic world for walks over many tickets.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import settings
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.types import ASGIApp

from app.auth.agents import Agent, create_agent
from app.auth.tokens import issue_token
from app.billing.simulator.app import SimulatorConfig, create_simulator_app
from app.config import Settings
from app.db.engine import create_engine
from app.db.migrate import upgrade
from app.main import create_app
from app.world.seeder import SeedSummary, seed_database
from tests.support.billing_admin import BillingAdmin
from tests.support.databases import BACKENDS, database
from tests.support.factories import Factory
from tests.support.servers import serve_in_thread

WORLD_SEED = 7
WORLD_CUSTOMERS = 40

# Property tests and fuzzing: seeded and bounded in CI; `--hypothesis-profile=long` runs many
# more examples, unseeded (docs/operations.md records a long run).
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, deadline=None)
settings.register_profile(
    "long", max_examples=3000, derandomize=False, database=None, deadline=None
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def billing_url() -> Iterator[str]:
    config = SimulatorConfig(seed=WORLD_SEED, fault_control=True)
    with serve_in_thread(create_simulator_app(config)) as url:
        yield url


@pytest.fixture
async def billing(billing_url: str) -> BillingAdmin:
    """The simulator, healthy and with fresh counters at the start of each test."""
    admin = BillingAdmin(billing_url)
    await admin.reset()
    return admin


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Deployment:
    """A migrated database with a gateway app serving it, and a client logged in to it.

    `client` sends the API token of `agent`; `anonymous` sends no credentials.
    """

    database_url: str
    engine: AsyncEngine
    client: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    agent: Agent
    token: str


EXPRESS_FIXTURES = json.loads(
    (Path(__file__).parent / "fixtures" / "express-session.json").read_text()
)
SESSION_SECRETS: list[str] = EXPRESS_FIXTURES["secrets"]


def gateway_settings(database_url: str, billing_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "billing_url": billing_url,
        "debug_counters": True,
        "billing_deadline_seconds": 1.0,
        "session_secrets": SESSION_SECRETS,
        "cookie_secure": False,
        # Deployments shared by many tests keep no memory of earlier tests' faults: the tests
        # of the breaker and the retry budget make apps of their own with the real settings.
        "billing_breaker_failures": 1_000_000,
        "billing_retry_budget_ratio": 1.0,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


def client_of(app: ASGIApp, token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://gateway.test",
        headers={"Authorization": f"Bearer {token}"} if token else None,
    )


@asynccontextmanager
async def serving(app: FastAPI, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client talking to a gateway app, its lifespan running."""
    async with LifespanManager(app) as manager, client_of(manager.app, token) as client:
        yield client


async def new_agent(engine: AsyncEngine, **overrides: str) -> tuple[Agent, str]:
    """An agent with a password and an API token."""
    n = next(_agents)
    values = {"email": f"agent{n}@example.org", "name": f"Agent {n}", "password": AGENT_PASSWORD}
    agent = await create_agent(engine, **(values | overrides))
    issued = await issue_token(engine, email=agent.email, name="tests")
    return agent, issued.token


_agents = itertools.count(1)
AGENT_PASSWORD = "correct horse battery staple"


@asynccontextmanager
async def _deploy(database_url: str, billing_url: str) -> AsyncIterator[Deployment]:
    await upgrade(database_url)
    engine = create_async_engine(database_url)
    try:
        agent, token = await new_agent(engine)
        app = create_app(gateway_settings(database_url, billing_url))
        async with (
            LifespanManager(app) as manager,
            client_of(manager.app, token) as client,
            client_of(manager.app) as anonymous,
        ):
            yield Deployment(database_url, engine, client, anonymous, agent, token)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def scratch_deployment(
    backend: str, billing_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    directory = tmp_path_factory.mktemp(backend)
    async with (
        database(backend, directory, "scratch") as url,
        _deploy(url, billing_url) as deployment,
    ):
        yield deployment


@pytest.fixture(scope="session")
async def world_deployment(
    backend: str, billing_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Deployment, SeedSummary]]:
    async with database(backend, tmp_path_factory.mktemp(backend), "world") as url:
        await upgrade(url)
        engine = create_engine(Settings(database_url=url))
        summary = await seed_database(engine, customers=WORLD_CUSTOMERS, seed=WORLD_SEED)
        await engine.dispose()
        async with _deploy(url, billing_url) as deployment:
            yield deployment, summary


@pytest.fixture
def unreachable_database_url(backend: str, tmp_path: Path) -> str:
    """A database URL of the backend under test that no server answers."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/missing-dir/helpdesk.db"
    return "postgresql+asyncpg://postgres@127.0.0.1:1/helpdesk"


@pytest.fixture
def scratch(scratch_deployment: Deployment, billing: BillingAdmin) -> Deployment:
    return scratch_deployment


@pytest.fixture
def factory(scratch_deployment: Deployment) -> Factory:
    return Factory(scratch_deployment.engine)


@pytest.fixture
def world(
    world_deployment: tuple[Deployment, SeedSummary], billing: BillingAdmin
) -> tuple[Deployment, SeedSummary]:
    return world_deployment
