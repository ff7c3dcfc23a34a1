"""The `history-gateway` command: demo, serve, migrate, seed and the billing simulator."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import uvicorn

from app.billing.simulator.server import add_simulator_arguments, run_simulator
from app.config import ConfigurationError, Settings, load_settings
from app.db.engine import create_engine
from app.db.migrate import upgrade
from app.demo import run_demo
from app.graphql.schema import schema
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
            print(schema.as_str())
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
    return parser


def _serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    # Settings were validated above; each worker process reads the same environment again.
    del settings
    uvicorn.run(
        "app.main:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


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
