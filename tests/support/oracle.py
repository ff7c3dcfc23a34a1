"""An independent reading of design §6: the whole expected history of a ticket, computed naively.

It shares no code with the engine: plain SELECTs of every ticket in scope, the billing backend
asked contract by contract, one Python sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.billing_admin import BillingAdmin

_RANK = {"ticket": 2, "gridMessage": 1, "delivery": 0}


@dataclass
class ExpectedHistory:
    items: list[dict[str, Any]]
    opened_tickets: int


async def expected_history(
    engine: AsyncEngine, billing: BillingAdmin, ticket_id: int
) -> ExpectedHistory:
    async with engine.connect() as connection:
        anchor = (
            await connection.execute(
                sa.text("SELECT contract_id, customer_id FROM tickets WHERE id = :id"),
                {"id": ticket_id},
            )
        ).one()
        if anchor.contract_id is not None:
            where, key = "t.contract_id = :key", anchor.contract_id
            contract_ids = [anchor.contract_id]
        elif anchor.customer_id is not None:
            where, key = "t.customer_id = :key", anchor.customer_id
            contract_ids = list(
                (
                    await connection.execute(
                        sa.text("SELECT id FROM contracts WHERE customer_id = :key"), {"key": key}
                    )
                ).scalars()
            )
        else:
            where, key, contract_ids = "t.id = :key", ticket_id, []
        rows = await connection.execute(
            sa.text(
                "SELECT t.id, t.channel, s.key AS sub, t.status, t.subject, t.external_url, "
                "t.created_at FROM tickets t LEFT JOIN subchannels s ON s.id = t.subchannel_id "
                f"WHERE {where}"
            ),
            {"key": key},
        )
        items = [
            {
                "id": row.id,
                "type": "ticket",
                "channel": row.channel,
                "subChannel": row.sub,
                "status": row.status,
                "subject": row.subject,
                "url": row.external_url,
                "createdAt": row.created_at,
            }
            for row in rows
        ]
    opened = sum(
        1 for item in items if item["id"] != ticket_id and item["status"] in ("open", "pending")
    )
    for contract_id in contract_ids:
        for event in await billing.events_of(contract_id):
            items.append(
                {
                    "id": None,
                    "type": event["kind"],
                    "channel": None,
                    "subChannel": event["counterpartRole"],
                    "status": None,
                    "subject": event["subject"],
                    "url": event["url"],
                    "createdAt": event["occurredAt"],
                    "_source_id": event["id"],
                }
            )
    items.sort(
        key=lambda item: (
            item["createdAt"],
            _RANK[item["type"]],
            item.get("_source_id", item["id"]),
        ),
        reverse=True,
    )
    for item in items:
        item.pop("_source_id", None)
    return ExpectedHistory(items, opened)
