"""Small factories that write helpdesk rows straight into a test database."""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.tables import contracts, customers, subchannels, tickets

# Far from the ids the documented example uses (135, 222, 1022).
_ids = itertools.count(100_000)


def next_id() -> int:
    return next(_ids)


class Factory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _insert(self, table: sa.Table, row: dict[str, Any]) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(table.insert().values(**row))

    async def customer(self, **overrides: Any) -> str:
        customer_id = overrides.pop("id", f"C{next_id()}")
        row = {"id": customer_id, "firstname": "Tom", "lastname": "Mustermann"} | overrides
        await self._insert(customers, row)
        return str(customer_id)

    async def contract(self, customer_id: str, **overrides: Any) -> str:
        contract_id = overrides.pop("id", f"K{next_id()}")
        row = {
            "id": contract_id,
            "customer_id": customer_id,
            "energy": "electricity",
            "status": "active",
        } | overrides
        await self._insert(contracts, row)
        return str(contract_id)

    async def subchannel(self, channel: str, key: str) -> int:
        subchannel_id = next_id()
        await self._insert(
            subchannels, {"id": subchannel_id, "channel": channel, "key": key, "name": key}
        )
        return subchannel_id

    async def ticket(self, **overrides: Any) -> int:
        ticket_id = overrides.pop("id", next_id())
        row = {
            "id": ticket_id,
            "channel": "email",
            "status": "closed",
            "subject": f"Ticket {ticket_id}",
            "created_at": 1_700_000_000,
        } | overrides
        await self._insert(tickets, row)
        return int(ticket_id)


def event(
    event_id: int,
    occurred_at: int,
    *,
    kind: str = "gridMessage",
    subject: str = "deliveryStartConfirmed",
    role: str | None = "gridOperator",
) -> dict[str, Any]:
    """A billing event in the backend's wire format."""
    return {
        "id": event_id,
        "kind": kind,
        "subject": subject,
        "counterpartRole": role if kind == "gridMessage" else None,
        "occurredAt": occurred_at,
        "url": f"https://powercloud.de/gridMessages/{event_id}",
    }
