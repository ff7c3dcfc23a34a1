"""The app factory: `uvicorn app.main:create_app --factory`. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.billing.client import BillingClient, build_http_client
from app.config import Settings, load_settings
from app.db.engine import create_engine
from app.deps import Resources
from app.graphql.graphiql import router as graphiql_router
from app.graphql.router import create_graphql_router
from app.history.loaders import Sources
from app.ops.body_limit import BodyLimitMiddleware
from app.ops.request_id import RequestContextMiddleware
from app.rest.errors import install_error_handlers
from app.rest.routes import router as rest_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        http = build_http_client(settings)
        app.state.resources = Resources(
            settings=settings,
            sources=Sources(engine=engine, billing=BillingClient(http, settings)),
            http=http,
        )
        try:
            yield
        finally:
            await http.aclose()
            await engine.dispose()

    app = FastAPI(
        title="history-gateway",
        summary="A customer's tickets and energy-contract events as one timeline.",
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's docs pages load their assets from a CDN; the gateway serves no such page.
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(rest_router)
    app.include_router(create_graphql_router(settings))
    app.include_router(graphiql_router)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, expose_counters=settings.debug_counters)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, minus FastAPI's 422 answers: invalid input is a documented 400."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        for path in document["paths"].values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        schemas = document.get("components", {}).get("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = document
    return app.openapi_schema
