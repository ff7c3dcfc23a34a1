"""A history page reads about a page of rows from the scope index, however deep it is."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import queries
from app.db.tables import tickets
from app.history.model import NO_FILTER, HistoryFilter, ItemType, Scope, TicketWindow
from tests.conftest import Deployment
from tests.support.factories import Factory

HISTORY_SIZE = 3000
PAGE = 20


async def explain(connection: AsyncConnection, window: TicketWindow) -> str:
    statement = queries.ticket_windows_statement([window])
    assert statement is not None
    compiled = statement.compile(
        connection.engine.sync_engine, compile_kwargs={"literal_binds": True}
    )
    if connection.dialect.name == "postgresql":
        plan = await connection.execute(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}"))
        return json.dumps(plan.scalar())
    plan = await connection.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))
    return "\n".join(str(row[-1]) for row in plan)


def rows_read(postgres_plan: str) -> list[int]:
    """'Actual Rows' of every index scan in a PostgreSQL JSON plan."""
    found: list[int] = []

    def walk(node: dict[str, object]) -> None:
        if "Index" in str(node.get("Node Type")):
            found.append(int(node["Actual Rows"]))  # type: ignore[call-overload]
        for child in node.get("Plans", []):  # type: ignore[union-attr]
            walk(child)

    walk(json.loads(postgres_plan)[0]["Plan"])
    return found


async def test_deep_keyset_pages_use_the_scope_index_and_read_a_page(
    scratch: Deployment, factory: Factory
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    first_id = 5_000_000
    async with scratch.engine.begin() as connection:
        await connection.execute(
            tickets.insert(),
            [
                {
                    "id": first_id + n,
                    "channel": "email",
                    "status": "closed",
                    "contract_id": contract,
                    "customer_id": customer,
                    "created_at": 1_600_000_000 + n,
                }
                for n in range(HISTORY_SIZE)
            ],
        )
        await connection.execute(sa.text("ANALYZE"))
    scope = Scope("contract", contract)
    depth_key = (1_600_000_000 + 100, 2, first_id + 100)  # 2,900 items deep, newest first

    async with scratch.engine.connect() as connection:
        first_page = await explain(connection, TicketWindow(scope, NO_FILTER, PAGE + 1))
        deep_page = await explain(
            connection, TicketWindow(scope, NO_FILTER, PAGE + 1, after=depth_key)
        )
        backwards = await explain(
            connection,
            TicketWindow(scope, NO_FILTER, PAGE + 1, before=depth_key, oldest_first=True),
        )

    for plan in (first_page, deep_page, backwards):
        assert "ix_tickets_contract_keyset" in plan
        if scratch.engine.dialect.name == "postgresql":
            assert rows_read(plan) == [PAGE + 1]
            assert '"Sort"' not in plan
        else:
            assert "TEMP B-TREE" not in plan


async def test_windows_that_want_no_tickets_keep_their_places(
    scratch: Deployment, factory: Factory
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    ticket = await factory.ticket(contract_id=contract, customer_id=customer)
    scope = Scope("contract", contract)
    events_only = HistoryFilter(types=frozenset({ItemType.GRID_MESSAGE}))
    windows = [
        TicketWindow(scope, events_only, 10),
        TicketWindow(scope, NO_FILTER, 10),
        TicketWindow(scope, events_only, 10),
    ]

    lone = await queries.ticket_windows(scratch.engine, windows)
    several = await queries.ticket_windows(scratch.engine, [*windows, windows[1]])

    assert [[t.id for t in found] for found in lone] == [[], [ticket], []]
    assert [[t.id for t in found] for found in several] == [[], [ticket], [], [ticket]]
