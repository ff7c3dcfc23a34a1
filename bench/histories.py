"""Extra contracts with long histories, added to a seeded bench database for one run.

The seeded world's largest histories have 15-19 items, so a `history(first: 100)` page of it is
short. For full pages and for depth, the benchmarks add contracts with serials from the top of
the range (the simulator knows them, so their billing events come from the world generator) for
a customer of their own (BENCH_CUSTOMER: the seeded customers' histories stay as they are), with
tickets inserted by SQL above the seeded ticket ids, spread evenly over the seeded years and
cycling through four channels:

- BUSY_CONTRACTS contracts of BUSY_TICKETS tickets each: every page of 100 is full;
- one deep contract (serial LAST_SERIAL) of DEEP_TICKETS tickets, for pages at depth.

They are deleted again when the block ends (and before they are added, after an interrupted
run), so `bench/rest.py`'s sample of the largest seeded histories never sees them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from app.world.contracts import LAST_SERIAL, contract_profile, make_contract_id

BENCH_CUSTOMER = "bench-histories"
BUSY_CONTRACTS = 100
BUSY_TICKETS = 150
DEEP_SERIAL = LAST_SERIAL  # far beyond any seeded contract serial
DEEP_TICKETS = 10_000
# The channels (and subchannel keys) the extra tickets cycle through.
CHANNELS = (
    ("email", "support-mail"),
    ("phone", "hotline"),
    ("portal", "kundenportal"),
    ("letter", None),
)


def busy_contract_ids() -> list[str]:
    return [make_contract_id(DEEP_SERIAL - n) for n in range(1, BUSY_CONTRACTS + 1)]


def deep_contract_id() -> str:
    return make_contract_id(DEEP_SERIAL)


@contextmanager
def added_contracts(
    database_url: str, seed: int, tickets_by_contract: dict[str, int]
) -> Iterator[list[int]]:
    """Add the contracts with that many tickets each; yields each one's newest ticket id."""
    contract_ids = list(tickets_by_contract)
    asyncio.run(drop_contracts(database_url, contract_ids))
    try:
        yield asyncio.run(_add_contracts(database_url, seed, tickets_by_contract))
    finally:
        asyncio.run(drop_contracts(database_url, contract_ids))


async def drop_contracts(database_url: str, contract_ids: list[str]) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await connection.execute(
                "DELETE FROM access_log WHERE ticket_id IN "
                "(SELECT id FROM tickets WHERE contract_id = ANY($1::text[]))",
                contract_ids,
            )
            deleted = await connection.execute(
                "DELETE FROM tickets WHERE contract_id = ANY($1::text[])", contract_ids
            )
            await connection.execute(
                "DELETE FROM contracts WHERE id = ANY($1::text[])", contract_ids
            )
            await connection.execute(
                "DELETE FROM customers WHERE id = $1 "
                "AND NOT EXISTS (SELECT 1 FROM contracts WHERE customer_id = $1)",
                BENCH_CUSTOMER,
            )
        if deleted != "DELETE 0":
            await connection.execute("ANALYZE tickets")
    finally:
        await connection.close()


async def _add_contracts(
    database_url: str, seed: int, tickets_by_contract: dict[str, int]
) -> list[int]:
    connection = await asyncpg.connect(database_url)
    newest: list[int] = []
    try:
        async with connection.transaction():
            customer_id = BENCH_CUSTOMER
            await connection.execute(
                "INSERT INTO customers (id, firstname, lastname) VALUES ($1, 'Bench', 'Histories') "
                "ON CONFLICT (id) DO NOTHING",
                customer_id,
            )
            next_id, oldest, latest = await connection.fetchrow(
                "SELECT max(id) + 1, min(created_at), max(created_at) FROM tickets"
            )
            subchannels = dict(await connection.fetch("SELECT key, id FROM subchannels"))
            channels = [channel for channel, _ in CHANNELS]
            subchannel_ids = [subchannels.get(key) for _, key in CHANNELS]
            for contract_id, count in tickets_by_contract.items():
                profile = contract_profile(seed, contract_id)
                await connection.execute(
                    "INSERT INTO contracts (id, customer_id, energy, status, product_name, "
                    "malo_id, grid_operator_name, delivery_address, start_date, end_date) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    contract_id, customer_id, profile.energy, profile.status,
                    profile.product_name, profile.malo_id, profile.grid_operator_name,
                    profile.delivery_address, profile.start_date, profile.end_date,
                )  # fmt: skip
                # Ticket n (0-based) at oldest + n * step: evenly over the seeded years.
                await connection.execute(
                    "INSERT INTO tickets (id, channel, subchannel_id, status, subject, "
                    "from_name, contract_id, customer_id, created_at) "
                    "SELECT $1::int + n, ($2::text[])[1 + n % 4], ($3::int[])[1 + n % 4], "
                    "CASE WHEN n % 50 = 0 THEN 'open' ELSE 'closed' END, "
                    "'Bench history ticket ' || n, 'Bench', $4, $5, "
                    "$6::int + (n::bigint * ($7::int - $6::int) / $8::int)::int "
                    "FROM generate_series(0, $8::int - 1) AS n",
                    next_id, channels, subchannel_ids, contract_id, customer_id,
                    oldest, latest, count,
                )  # fmt: skip
                next_id += count
                newest.append(next_id - 1)
        await connection.execute("ANALYZE tickets")
    finally:
        await connection.close()
    total = sum(tickets_by_contract.values())
    print(
        f"bench: added {len(tickets_by_contract)} contract(s) with {total} tickets "
        f"for customer {customer_id}",
        flush=True,
    )
    return newest
