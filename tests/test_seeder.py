"""The seeder on SQLite and PostgreSQL: deterministic, true to the world, referentially sound."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import tables
from app.db.engine import create_engine
from app.db.migrate import upgrade
from app.world.contracts import FIRST_SERIAL, contract_profile, make_contract_id
from app.world.dates import WORLD_END_TS, WORLD_START_TS
from app.world.seeder import SeedSummary, seed_database
from app.world.vocab import CHANNELS, DIRECTIONS, FIRST_NAMES, LAST_NAMES, PRIORITIES, STATUSES
from tests.support.databases import BACKENDS, database

SEEDED_TABLES = (tables.subchannels, tables.customers, tables.contracts, tables.tickets)

Dump = dict[str, list[sa.Row[Any]]]


class FreshDatabases:
    """Makes migrated, empty databases of one backend; drops them all when the stack closes."""

    def __init__(self, backend: str, directory: Path, stack: AsyncExitStack) -> None:
        self.backend = backend
        self.directory = directory
        self.stack = stack
        self.made = 0

    async def new(self) -> AsyncEngine:
        self.made += 1
        url = await self.stack.enter_async_context(
            database(self.backend, self.directory, f"seeder{self.made}")
        )
        await upgrade(url)
        engine = create_engine(Settings(database_url=url))
        self.stack.push_async_callback(engine.dispose)
        return engine


@asynccontextmanager
async def fresh_databases(backend: str, directory: Path) -> AsyncIterator[FreshDatabases]:
    async with AsyncExitStack() as stack:
        yield FreshDatabases(backend, directory, stack)


@pytest.fixture(params=BACKENDS)
async def databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[FreshDatabases]:
    async with fresh_databases(request.param, tmp_path) as made:
        yield made


async def dump(engine: AsyncEngine) -> Dump:
    async with engine.connect() as connection:
        return {
            table.name: list(await connection.execute(sa.select(table).order_by(table.c.id)))
            for table in SEEDED_TABLES
        }


async def agent_emails(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.select(tables.agents.c.email))).scalars())


async def test_same_seed_same_rows_other_seed_other_rows(databases: FreshDatabases) -> None:
    first, second = await databases.new(), await databases.new()
    async with second.begin() as connection:
        await connection.execute(
            tables.agents.insert().values(id=1, email="a@example.org", name="A", created_at=0)
        )

    summary = await seed_database(first, customers=40, seed=5)
    other = await seed_database(second, customers=40, seed=6)
    world_5, world_6 = await dump(first), await dump(second)
    again = await seed_database(second, customers=40, seed=5)

    assert await dump(second) == world_5
    assert again == summary
    for name in ("customers", "contracts", "tickets"):
        assert world_6[name] != world_5[name]
    assert other != summary
    assert await agent_emails(second) == ["a@example.org"]


async def test_counts_match_the_summary(databases: FreshDatabases) -> None:
    engine = await databases.new()
    summary = await seed_database(engine, customers=120, seed=11)
    world = await dump(engine)

    assert len(world["customers"]) == summary.customers == 120
    assert len(world["contracts"]) == summary.contracts
    assert len(world["tickets"]) == summary.tickets
    assert [row[0] for row in world["tickets"]] == list(range(1, summary.tickets + 1))
    assert sorted(summary.sample_ticket_ids) == ["contract", "customer_only", "no_customer"]


def scope_of(ticket: sa.Row[Any]) -> str:
    if ticket.contract_id is not None:
        return "contract"
    return "customer_only" if ticket.customer_id is not None else "no_customer"


async def test_rows_are_sound_and_agree_with_the_billing_world(databases: FreshDatabases) -> None:
    engine = await databases.new()
    summary = await seed_database(engine, customers=150, seed=11)
    world = await dump(engine)
    customers = {row.id: row for row in world["customers"]}
    contracts = {row.id: row for row in world["contracts"]}
    subchannels = {row.id: row.key for row in world["subchannels"]}

    assert all(re.fullmatch(r"1\d{7}", customer_id) for customer_id in customers)
    assert all(row.firstname in FIRST_NAMES for row in customers.values())
    assert all(row.lastname in LAST_NAMES for row in customers.values())
    serials = range(FIRST_SERIAL, FIRST_SERIAL + len(contracts))
    assert sorted(contracts) == [make_contract_id(serial) for serial in serials]
    for contract_id, row in contracts.items():
        profile = contract_profile(11, contract_id)
        assert row.customer_id in customers
        assert tuple(row)[2:] == (
            profile.energy,
            profile.status,
            profile.product_name,
            profile.malo_id,
            profile.grid_operator_name,
            profile.delivery_address,
            profile.start_date,
            profile.end_date,
        )
    assert max(Counter(row.customer_id for row in contracts.values()).values()) <= 3

    tickets = world["tickets"]
    per_customer = Counter(t.customer_id for t in tickets if t.customer_id is not None)
    assert set(per_customer) == set(customers)
    assert all(1 <= count <= 10 for count in per_customer.values())
    for ticket in tickets:
        assert ticket.channel in CHANNELS
        assert ticket.status in STATUSES
        assert ticket.priority in PRIORITIES
        assert ticket.direction in DIRECTIONS
        assert WORLD_START_TS <= ticket.created_at < WORLD_END_TS
        if ticket.contract_id is not None:
            assert ticket.customer_id == contracts[ticket.contract_id].customer_id
        subchannel = subchannels.get(ticket.subchannel_id)
        if ticket.channel == "chat":
            assert ticket.subject is None
            assert subchannel in ("website-chat", "facebook")
        if subchannel == "facebook":
            assert re.fullmatch(r"https://facebook\.com/message/\d+", ticket.external_url)
        else:
            assert ticket.external_url is None

    scopes = Counter(scope_of(ticket) for ticket in tickets)
    assert scopes["contract"] > scopes["customer_only"] > scopes["no_customer"] > 0
    assert set(Counter(ticket.status for ticket in tickets)) == {"open", "pending", "closed"}
    for kind, ticket_id in summary.sample_ticket_ids.items():
        assert scope_of(tickets[ticket_id - 1]) == kind


async def test_tickets_follow_the_contract_storylines(databases: FreshDatabases) -> None:
    engine = await databases.new()
    await seed_database(engine, customers=150, seed=3)
    world = await dump(engine)
    by_contract: dict[str, list[sa.Row[Any]]] = {}
    for ticket in world["tickets"]:
        by_contract.setdefault(ticket.contract_id, []).append(ticket)
    move_outs = rejections = 0
    for contract in world["contracts"]:
        profile = contract_profile(3, contract.id)
        times = {event.subject: event.occurred_at for event in profile.events}
        tickets = by_contract.get(contract.id, [])
        if profile.storyline == "moveOut":
            move_outs += 1
            (notice,) = [t for t in tickets if t.subject == "Umzug / Kündigung"]
            assert notice.channel == "email"
            assert notice.created_at < times["deliveryEndRequested"]
        if profile.storyline == "rejection":
            rejections += 1
            calls = [t for t in tickets if t.subject == "missedCall" and t.channel == "phone"]
            delays = [call.created_at - times["deliveryStartRejected"] for call in calls]
            assert any(0 < delay <= 3 * 86_400 for delay in delays)
    assert move_outs > 5
    assert rejections > 5


async def test_sqlite_and_postgresql_hold_the_same_world(tmp_path: Path) -> None:
    async with (
        fresh_databases("sqlite", tmp_path) as sqlite,
        fresh_databases("postgresql", tmp_path) as postgresql,
    ):
        summaries: list[SeedSummary] = []
        dumps: list[Dump] = []
        for databases in (sqlite, postgresql):
            engine = await databases.new()
            summaries.append(await seed_database(engine, customers=60, seed=9))
            dumps.append(await dump(engine))
    assert summaries[0] == summaries[1]
    assert dumps[0] == dumps[1]


async def test_at_least_one_customer_is_required(tmp_path: Path) -> None:
    async with fresh_databases("sqlite", tmp_path) as databases:
        engine = await databases.new()
        with pytest.raises(ValueError, match="at least 1"):
            await seed_database(engine, customers=0, seed=1)
