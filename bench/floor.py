"""The floor: the REST history endpoint's work done with no framework, to measure the shim against.

A bare Starlette route, run by `bench/rest.py` under uvicorn with the gateway's loop settings and
core pinning. For a request it does the gateway's database work through asyncpg directly: the API
token's row (`Authorization: Bearer <token>`, looked up by its SHA-256 joined to the agent), the
ticket row, then concurrently one access_log insert (the read: agent, ticket, request id, time),
the contract's newest 100 tickets, the contract's counts and the billing call. It merges newest
first and serialises with orjson. No validation, loaders, middleware or dependency injection:
whatever the gateway spends beyond this is the price of its framework and structure.

A request without a known, unrevoked token of an active agent answers 401. It serves contract
scopes only (the benchmark picks tickets with a contract); any other ticket answers 404.
Environment: DATABASE_URL (postgresql://…) and BILLING_URL, as for the gateway.

    uvicorn floor:create_app --factory --app-dir bench --loop uvloop --http httptools
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE_SIZE = 100
# The gateway's pool bounds (DB_POOL_SIZE 20, no overflow) and billing connection limit.
DB_POOL_MAX = 20
BILLING_CONNECTIONS = 20
BILLING_API_KEY = "demo-billing-key"

AGENT_SQL = (
    "SELECT a.id, a.email, a.name FROM agents a JOIN api_tokens t ON t.agent_id = a.id "
    "WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.active"
)
LOG_SQL = (
    "INSERT INTO access_log (agent_id, ticket_id, contract_id, request_id, created_at) "
    "VALUES ($1, $2, NULL, $3, $4)"
)
_COLUMNS = """
    t.id, t.channel, s.key AS sub_channel, t.status, t.priority, t.direction, t.subject,
    t.from_name, t.from_addr, t.external_url, t.contract_id, t.customer_id, t.created_at
"""
_FROM = "tickets t LEFT JOIN subchannels s ON t.subchannel_id = s.id"
TICKET_SQL = f"SELECT {_COLUMNS} FROM {_FROM} WHERE t.id = $1"
PAGE_SQL = (
    f"SELECT {_COLUMNS} FROM {_FROM} WHERE t.contract_id = $1 "
    f"ORDER BY t.created_at DESC, t.id DESC LIMIT {PAGE_SIZE}"
)
COUNT_SQL = (
    "SELECT count(*) AS tickets, "
    "coalesce(sum(CASE WHEN status IN ('open', 'pending') THEN 1 ELSE 0 END), 0) AS open_tickets "
    "FROM tickets WHERE contract_id = $1"
)

# Newest first; on equal times tickets, then grid messages, then deliveries (design §6).
_RANK = {"ticket": 2, "gridMessage": 1, "delivery": 0}
_OPEN = ("open", "pending")

SortedItem = tuple[tuple[int, int, int], dict[str, Any]]


def create_app() -> Starlette:
    """The floor app; the pool and the one shared billing client open in its lifespan."""
    database_url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    billing_url = os.environ["BILLING_URL"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(database_url, min_size=DB_POOL_MAX, max_size=DB_POOL_MAX)
        # The gateway's billing client: httpx on the aiohttp transport, the same pool bounds.
        limits = httpx.Limits(
            max_connections=BILLING_CONNECTIONS, max_keepalive_connections=BILLING_CONNECTIONS
        )
        http = httpx.AsyncClient(
            transport=AiohttpTransport(limits=limits),
            base_url=billing_url,
            headers={"Authorization": f"Bearer {BILLING_API_KEY}"},
            timeout=httpx.Timeout(2.0, connect=0.5),
        )
        app.state.pool, app.state.http = pool, http
        try:
            yield
        finally:
            await http.aclose()
            await pool.close()

    return Starlette(
        routes=[Route("/api/mind/ticket/{ticket_id:int}/history", ticket_history)],
        lifespan=lifespan,
    )


async def ticket_history(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    http: httpx.AsyncClient = request.app.state.http
    request_id = uuid.uuid4().hex  # the gateway's id for a request that brings none
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    agent = (
        await pool.fetchrow(AGENT_SQL, hashlib.sha256(token.encode()).hexdigest())
        if scheme.lower() == "bearer" and token
        else None
    )
    if agent is None:
        return _json({"success": False, "code": "UNAUTHENTICATED", "error": "No token."}, 401)
    ticket = await pool.fetchrow(TICKET_SQL, request.path_params["ticket_id"])
    if ticket is None or ticket["contract_id"] is None:
        return _json({"success": False, "code": "NOT_FOUND", "error": "No contract ticket."}, 404)
    contract_id: str = ticket["contract_id"]
    _, rows, counts, events = await asyncio.gather(
        pool.execute(LOG_SQL, agent["id"], ticket["id"], request_id, int(time.time())),
        pool.fetch(PAGE_SQL, contract_id),
        pool.fetchrow(COUNT_SQL, contract_id),
        _events(http, contract_id),
    )
    merged = sorted(
        [_ticket_item(row) for row in rows] + [_event_item(event) for event in events],
        key=_sort_key,
        reverse=True,
    )
    anchor_open = 1 if ticket["status"] in _OPEN else 0
    body = {
        "success": True,
        "total": counts["tickets"] + len(events),
        "totalOpenedTickets": counts["open_tickets"] - anchor_open,
        "history": [item for _, item in merged[:PAGE_SIZE]],
    }
    return _json(body, 200, {"X-Total-Count": str(body["total"]), "X-Request-ID": request_id})


async def _events(http: httpx.AsyncClient, contract_id: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/events", params={"contractId": contract_id})
    response.raise_for_status()
    events: list[dict[str, Any]] = orjson.loads(response.content)["events"][contract_id]
    return events


def _ticket_item(row: asyncpg.Record) -> SortedItem:
    item = {
        "id": row["id"],
        "type": "ticket",
        "channel": row["channel"],
        "subChannel": row["sub_channel"],
        "status": row["status"],
        "subject": row["subject"],
        "url": row["external_url"],
        "createdAt": row["created_at"],
    }
    return (row["created_at"], _RANK["ticket"], row["id"]), item


def _event_item(event: dict[str, Any]) -> SortedItem:
    kind = event["kind"]
    item = {
        "id": None,
        "type": kind,
        "channel": None,
        "subChannel": event["counterpartRole"] if kind == "gridMessage" else None,
        "status": None,
        "subject": event["subject"],
        "url": event["url"],
        "createdAt": event["occurredAt"],
    }
    return (event["occurredAt"], _RANK[kind], event["id"]), item


def _sort_key(entry: SortedItem) -> tuple[int, int, int]:
    return entry[0]


def _json(body: object, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
