"""The `history-gateway` command: demo, serve, migrate, seed and the billing simulator."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from types import FrameType

import uvicorn

from app.auth.agents import create_agent
from app.auth.tokens import issue_token, revoke_token
from app.billing.simulator.server import add_simulator_arguments, run_simulator
from app.config import ConfigurationError, Settings, load_settings
from app.db.engine import create_engine
from app.db.migrate import upgrade
from app.demo import run_demo
from app.graphql.schema import sdl_schema
from app.ops.logging import logging_config
from app.world.seeder import seed_database


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            asyncio.run(run_demo(port=args.port, customers=args.customers, seed=args.seed))
        elif args.command == "serve":
            _serve(load_settings(), host=args.host, port=args.port, workers=args.workers)
        elif args.command == "migrate":
            asyncio.run(upgrade(load_settings().database_url))
        elif args.command == "seed":
            asyncio.run(_seed(load_settings(), customers=args.customers, seed=args.seed))
        elif args.command == "billing-simulator":
            run_simulator(args)
        elif args.command == "export-schema":
            print(sdl_schema().as_str())
        elif args.command == "create-agent":
            password = args.password or _new_password()
            asyncio.run(_create_agent(load_settings(), args.email, args.name, password))
        elif args.command == "create-token":
            asyncio.run(_create_token(load_settings(), args.email, args.name))
        elif args.command == "revoke-token":
            asyncio.run(_revoke_token(load_settings(), args.id))
    except ConfigurationError as error:
        print("\n".join(error.lines), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="history-gateway",
        description="Settings come from the environment (see docs/configuration.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="seed ./var/demo.db and run the gateway with the billing simulator"
    )
    demo.add_argument("--port", type=int, default=8000, help="gateway port; simulator uses +1")
    demo.add_argument("--customers", type=int, default=200)
    demo.add_argument("--seed", type=int, default=42)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    commands.add_parser("migrate", help="bring DATABASE_URL to the newest schema")

    seed = commands.add_parser("seed", help="replace the helpdesk data with a generated world")
    seed.add_argument("--customers", type=int, default=1000)
    seed.add_argument("--seed", type=int, default=42)

    simulator = commands.add_parser("billing-simulator", help="run the billing simulator")
    add_simulator_arguments(simulator)

    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")

    agent = commands.add_parser("create-agent", help="add an agent who can log in")
    agent.add_argument("--email", required=True)
    agent.add_argument("--name", required=True)
    agent.add_argument("--password", help="prompted for when absent")

    token = commands.add_parser("create-token", help="issue an API token (printed once)")
    token.add_argument("--email", required=True, help="the agent the token acts as")
    token.add_argument("--name", required=True, help="what the token is for")

    revoke = commands.add_parser("revoke-token", help="revoke an API token by its id")
    revoke.add_argument("id", type=int)
    return parser


def _serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    # Checked here for one clear line; each worker process reads the same environment again.
    settings.check_serving()
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Every worker writes its metrics here; /metrics in any worker reads them all.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="history-gateway-")
    # uvicorn re-raises the SIGTERM it handled once it has drained; ending with status 0 then
    # tells supervisors that the stop was clean.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logging_config(settings.log_level),
        access_log=False,
        # The app believes X-Forwarded-* from TRUSTED_PROXIES only (app/main.py); uvicorn would
        # believe them from 127.0.0.1 by default.
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )


def _new_password() -> str:
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise SystemExit("the passwords differ")
    return first


async def _create_agent(settings: Settings, email: str, name: str, password: str) -> None:
    engine = create_engine(settings)
    try:
        agent = await create_agent(engine, email=email, name=name, password=password)
    finally:
        await engine.dispose()
    print(f"agent {agent.id} <{agent.email}> created")


async def _create_token(settings: Settings, email: str, name: str) -> None:
    engine = create_engine(settings)
    try:
        issued = await issue_token(engine, email=email, name=name)
    except LookupError as error:
        raise SystemExit(str(error)) from None
    finally:
        await engine.dispose()
    print(f"token {issued.id} (shown once, store it now): {issued.token}")


async def _revoke_token(settings: Settings, token_id: int) -> None:
    engine = create_engine(settings)
    try:
        revoked = await revoke_token(engine, token_id)
    finally:
        await engine.dispose()
    if not revoked:
        raise SystemExit(f"no active token {token_id}")
    print(f"token {token_id} revoked")


def _exit_cleanly(_signal: int, _frame: FrameType | None) -> None:
    sys.exit(0)


async def _seed(settings: Settings, *, customers: int, seed: int) -> None:
    engine = create_engine(settings)
    try:
        summary = await seed_database(engine, customers=customers, seed=seed)
    finally:
        await engine.dispose()
    print(
        f"seeded {summary.customers} customers, {summary.contracts} contracts, "
        f"{summary.tickets} tickets (seed {seed})"
    )
