"""Writes the demo world into the helpdesk database, replacing customers, contracts and tickets.

Agents and sessions are left alone. PostgreSQL gets the rows by COPY, which keeps 100,000
customers to a few minutes; SQLite gets chunked executemany. Everything happens in one
transaction, so a failed seed leaves the previous data in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db import tables
from app.world.people import CustomerRow
from app.world.population import ContractRow, Household, households
from app.world.tickets import TicketRow
from app.world.vocab import SUBCHANNELS, Subchannel

_HOUSEHOLDS_PER_CHUNK = 1000
_SEEDED_TABLES = (tables.tickets, tables.contracts, tables.customers, tables.subchannels)


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What a seed wrote, with one ticket id of each kind for demos and tests.

    `sample_ticket_ids` has the keys "contract" (a ticket about a contract), "customer_only"
    (a customer's ticket without a contract) and "no_customer" (an unknown sender's ticket).
    """

    customers: int
    contracts: int
    tickets: int
    sample_ticket_ids: dict[str, int]


async def seed_database(engine: AsyncEngine, *, customers: int, seed: int) -> SeedSummary:
    """Replace the world in the database behind ENGINE by CUSTOMERS households of world SEED."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    contract_count = ticket_count = 0
    samples: dict[str, int] = {}
    async with engine.begin() as connection:
        await _clear(connection)
        await _insert(connection, tables.subchannels, Subchannel._fields, SUBCHANNELS)
        for chunk in _chunks(households(seed, customers), _HOUSEHOLDS_PER_CHUNK):
            customer_rows = [household.customer for household in chunk]
            contract_rows = [row for household in chunk for row in household.contracts]
            ticket_rows = [row for household in chunk for row in household.tickets]
            await _insert(connection, tables.customers, CustomerRow._fields, customer_rows)
            await _insert(connection, tables.contracts, ContractRow._fields, contract_rows)
            await _insert(connection, tables.tickets, TicketRow._fields, ticket_rows)
            contract_count += len(contract_rows)
            ticket_count += len(ticket_rows)
            _collect_samples(samples, ticket_rows)
        if _is_postgres(connection):
            # Fresh statistics, so query plans right after a seed are the ones users will get.
            names = ", ".join(table.name for table in _SEEDED_TABLES)
            await connection.execute(sa.text(f"ANALYZE {names}"))
    return SeedSummary(customers, contract_count, ticket_count, samples)


async def _clear(connection: AsyncConnection) -> None:
    if _is_postgres(connection):
        names = ", ".join(table.name for table in _SEEDED_TABLES)
        await connection.execute(sa.text(f"TRUNCATE {names}"))
        return
    for table in _SEEDED_TABLES:
        await connection.execute(table.delete())


async def _insert(
    connection: AsyncConnection,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    if not rows:
        return
    if _is_postgres(connection):
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(table.name, records=rows, columns=columns)
    else:
        await connection.execute(
            table.insert(), [dict(zip(columns, row, strict=True)) for row in rows]
        )


def _collect_samples(samples: dict[str, int], tickets: Iterable[TicketRow]) -> None:
    for ticket in tickets:
        if ticket.contract_id is not None:
            kind = "contract"
        elif ticket.customer_id is not None:
            kind = "customer_only"
        else:
            kind = "no_customer"
        samples.setdefault(kind, ticket.id)


def _chunks(items: Iterator[Household], size: int) -> Iterator[list[Household]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _is_postgres(connection: AsyncConnection) -> bool:
    return connection.dialect.name == "postgresql"
