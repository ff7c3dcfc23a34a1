"""Fixtures: every backend (SQLite, PostgreSQL), the billing simulator over real HTTP, the gateway.

Two databases per backend: `scratch`, where tests write exactly the rows they reason about, and
`world`, a seeded realistic world for walks over many tickets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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
    """A migrated database with a gateway app serving it."""

    database_url: str
    engine: AsyncEngine
    client: httpx.AsyncClient


def gateway_settings(database_url: str, billing_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "billing_url": billing_url,
        "debug_counters": True,
        "billing_deadline_seconds": 1.0,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client talking to a gateway app, its lifespan running."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
            base_url="http://gateway.test",
        ) as client,
    ):
        yield client


@asynccontextmanager
async def _deploy(database_url: str, billing_url: str) -> AsyncIterator[Deployment]:
    await upgrade(database_url)
    engine = create_async_engine(database_url)
    try:
        async with serving(create_app(gateway_settings(database_url, billing_url))) as client:
            yield Deployment(database_url, engine, client)
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
