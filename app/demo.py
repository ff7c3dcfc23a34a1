"""`history-gateway demo`: a fresh SQLite world, the billing simulator and the gateway, together."""

from __future__ import annotations

import asyncio
import secrets

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.agents import create_agent
from app.billing.simulator.app import SimulatorConfig
from app.billing.simulator.server import serve_simulator
from app.config import load_settings
from app.db.engine import create_engine
from app.db.migrate import upgrade
from app.db.tables import access_log, agents, api_tokens, session_table
from app.main import create_app
from app.world.seeder import SeedSummary, seed_database

DEMO_DATABASE_URL = "sqlite+aiosqlite:///./var/demo.db"
DEMO_EMAIL = "demo@history-gateway.test"
DEMO_PASSWORD = "demo-password"
HOST = "127.0.0.1"


async def run_demo(*, port: int, customers: int, seed: int) -> None:
    """Seed ./var/demo.db anew (the demo never touches DATABASE_URL), then serve until Ctrl-C."""
    settings = load_settings(
        database_url=DEMO_DATABASE_URL,
        billing_url=f"http://{HOST}:{port + 1}",
        session_secrets=[secrets.token_urlsafe(32)],  # new each start: old demo logins end
        cookie_secure=False,  # plain http on 127.0.0.1
        session_store="sql",
    )
    await upgrade(settings.database_url)
    engine = create_engine(settings)
    try:
        summary = await seed_database(engine, customers=customers, seed=seed)
        await reset_demo_agent(engine)
    finally:
        await engine.dispose()
    gateway = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host=HOST, port=port, log_level="warning", proxy_headers=False
        )
    )
    print(_banner(summary, port), flush=True)
    await asyncio.gather(
        serve_simulator(
            SimulatorConfig(seed=seed, api_key=settings.billing_api_key), HOST, port + 1
        ),
        gateway.serve(),
    )


async def reset_demo_agent(engine: AsyncEngine) -> None:
    """The demo's one agent, with the printed password, and no sessions of earlier runs."""
    async with engine.begin() as connection:
        await connection.execute(access_log.delete())
        await connection.execute(api_tokens.delete())
        await connection.execute(session_table("session").delete())
        await connection.execute(agents.delete())
    await create_agent(engine, email=DEMO_EMAIL, name="Demo Agent", password=DEMO_PASSWORD)


def _banner(summary: SeedSummary, port: int) -> str:
    base = f"http://{HOST}:{port}"
    samples = "\n".join(
        f"  {kind:<14} {base}/api/mind/ticket/{ticket_id}/history"
        for kind, ticket_id in summary.sample_ticket_ids.items()
    )
    return (
        f"history-gateway demo: {summary.customers} customers, {summary.contracts} contracts, "
        f"{summary.tickets} tickets in ./var/demo.db\n"
        f"billing simulator  http://{HOST}:{port + 1}\n"
        f"timeline           {base}/  (log in as {DEMO_EMAIL} / {DEMO_PASSWORD})\n"
        f"GraphiQL           {base}/graphql\n"
        f"OpenAPI document   {base}/openapi.json\n"
        f"ticket histories:\n{samples}\n"
        "Ctrl-C stops both."
    )
