"""Stock Strawberry: the gateway with its GraphQL schema swapped for a plain one (a baseline).

    .venv/bin/python bench/stock_strawberry.py --host 127.0.0.1 --port 8100

The app is `app.main.create_app` as it is, so REST, middleware, authentication, the access log,
the context and the `/graphql` mount (`app.graphql.router.GraphQLEndpoint`) are the gateway's own.
Only the schema differs: `strawberry.Schema(query=Query, types=HISTORY_ITEM_TYPES)` with
Strawberry's ParserCache and ValidationCache, the same types and loaders, and none of the
gateway's own extensions (error codes, operation metrics, depth/alias/token limits) or config.
It is served the way `history-gateway serve` serves the gateway (uvicorn picks uvloop and
httptools, the same log config, no uvicorn access log), with one worker.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from unittest import mock

import strawberry
import uvicorn
from fastapi import FastAPI
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

from app.config import Settings, load_settings
from app.graphql import router
from app.graphql.schema import HISTORY_ITEM_TYPES, Query
from app.main import create_app as create_gateway_app
from app.ops.logging import logging_config

CACHE_SIZE = 100


def stock_schema(_settings: Settings | None = None) -> strawberry.Schema:
    """The gateway's schema as a stock Strawberry app would build it, with the two caches."""
    # Factories, as Strawberry asks: an instance would be shared by concurrent operations.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
    ]
    return strawberry.Schema(query=Query, types=HISTORY_ITEM_TYPES, extensions=extensions)


def create_app() -> FastAPI:
    """`app.main.create_app`, with `create_graphql_router` handed the stock schema.

    `create_graphql_router` builds its schema with `build_schema(settings)`, looked up in
    `app.graphql.router` when it runs, so patching that name for the call is enough.
    """
    with mock.patch.object(router, "build_schema", stock_schema):
        return create_gateway_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    settings = load_settings()
    settings.check_serving()
    # The arguments `history-gateway serve` (app/cli.py `_serve`) gives uvicorn, one worker.
    uvicorn.run(
        create_app,
        factory=True,
        host=args.host,
        port=args.port,
        log_config=logging_config(settings.log_level),
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )


if __name__ == "__main__":
    main()
