"""The app factory: `uvicorn app.main:create_app --factory`. Nothing is built at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config import Settings, load_settings
from app.graphql.request_checks import COST_HEADER, COST_LIMIT_HEADER
from app.graphql.router import create_graphql_router
from app.http_errors import install_error_handlers
from app.lifespan import lifespan_for
from app.ops.body_limit import BodyLimitMiddleware
from app.ops.deadline import DeadlineMiddleware
from app.ops.head_requests import HeadAsGetMiddleware
from app.ops.health import router as health_router
from app.ops.metrics_route import router as metrics_router
from app.ops.request_id import RequestContextMiddleware
from app.ops.telemetry import TelemetryMiddleware
from app.rest.auth_routes import router as auth_router
from app.rest.routes import router as rest_router
from app.web.pages import router as pages_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    settings.check_serving()
    app = FastAPI(
        title="history-gateway",
        summary="A customer's tickets and energy-contract events as one timeline.",
        version="0.1.0",
        lifespan=lifespan_for(settings),
        # FastAPI's docs pages load their assets from a CDN; the gateway serves no such page.
        docs_url=None,
        redoc_url=None,
        # A redirect to the path without its trailing slash would carry the client's Host.
        redirect_slashes=False,
    )
    app.include_router(rest_router)
    app.include_router(auth_router)
    # GraphQL is described by schema.graphql; the OpenAPI document is the REST API's.
    app.include_router(create_graphql_router(settings), include_in_schema=False)
    app.include_router(pages_router)
    app.include_router(health_router)
    app.include_router(metrics_router)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "X-Total-Count",
                "Link",
                COST_HEADER,
                COST_LIMIT_HEADER,
            ],
            max_age=600,
        )
    app.add_middleware(DeadlineMiddleware, seconds=settings.request_deadline_seconds)
    app.add_middleware(TelemetryMiddleware)
    app.add_middleware(RequestContextMiddleware, expose_counters=settings.debug_counters)
    app.add_middleware(HeadAsGetMiddleware)
    if settings.trusted_proxies:
        # The client's address and scheme from X-Forwarded-For and -Proto, when (and only when)
        # the peer is a trusted proxy: uvicorn's own proxy-header handling is off (app/cli.py).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
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
