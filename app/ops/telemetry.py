"""ASGI middleware: one structured access-log line and the request metrics per request.

The line carries the request id, route, status, duration and the request's SQL statements and
billing calls; never a header, a cookie, a query string or a body.
"""

from __future__ import annotations

import logging
import time

from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ops.metrics import LATENCY, REQUESTS
from app.request_context import current_counters, current_request_id

access_logger = logging.getLogger("app.access")
# What nginx logs for a client that went away before it was answered; no answer carries it.
CLIENT_CLOSED_REQUEST = 499


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = route.path if isinstance(route, Route) else "unmatched"
            REQUESTS.labels(template, str(status)).inc()
            LATENCY.labels(template).observe(elapsed)
            counters = current_counters()
            access_logger.info(
                "request",
                extra={
                    "request_id": current_request_id(),
                    "method": scope["method"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "sql_statements": counters.sql_statements if counters else None,
                    "billing_calls": counters.billing_calls if counters else None,
                },
            )
