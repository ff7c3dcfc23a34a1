"""`/healthz` (the process is alive) and `/readyz` (it can answer: database and session store).

Billing is reported but never makes the gateway unready: a billing outage is what partial
answers are for, and taking every worker out of the load balancer would turn a degraded
answer into none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app.deps import Resources, resources
from app.rest.body import json_response

CHECK_SECONDS = 1.0

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def alive() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz")
async def ready(shared: Annotated[Resources, Depends(resources)]) -> Response:
    database, session_store, billing = await asyncio.gather(
        _check(_database(shared)), _check(_session_store(shared)), _check(_billing(shared))
    )
    is_ready = database and session_store
    return json_response(
        {
            "status": "ready" if is_ready else "unready",
            "checks": {
                "database": _word(database),
                "sessionStore": _word(session_store),
                "billing": _word(billing),
                "billingBreaker": shared.sources.billing.breaker.state.value,
            },
        },
        status=200 if is_ready else 503,
    )


def _word(up: bool) -> str:
    return "ok" if up else "down"


async def _check(probe: Coroutine[None, None, None]) -> bool:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await probe
    except Exception:  # any failure of a probe means "down"; it is reported, not raised
        return False
    return True


async def _database(shared: Resources) -> None:
    async with shared.sources.engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))


async def _session_store(shared: Resources) -> None:
    if shared.settings.session_store == "redis" and shared.redis is not None:
        await shared.redis.ping()
    else:
        await _database(shared)


async def _billing(shared: Resources) -> None:
    response = await shared.http.get("/healthz", timeout=CHECK_SECONDS)
    response.raise_for_status()
