"""ASGI middleware: a request id for every request, and per-request source counters.

A client's `X-Request-ID` is kept when it is short and plain, replaced otherwise; it is returned
on the response and forwarded to the billing backend. With DEBUG_COUNTERS on, the response also
says how many SQL statements and billing calls it cost. An exception that escapes the app is
logged with the request id and answered with a masked 500 that still carries these headers; a
client that disconnects before its request is read gets no answer and no error log.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http_errors import internal_error_for_path
from app.request_context import begin_request, end_request

logger = logging.getLogger(__name__)

_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def accepted_request_id(candidate: str | None) -> str:
    if candidate is not None and _PLAIN_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, expose_counters: bool) -> None:
        self.app = app
        self.expose_counters = expose_counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id")
        request_id = accepted_request_id(incoming.decode("latin-1") if incoming else None)
        counters, token = begin_request(request_id)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if self.expose_counters:
                    headers["X-SQL-Statements"] = str(counters.sql_statements)
                    headers["X-Billing-Calls"] = str(counters.billing_calls)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            # The client left before its request was read: nobody is there to answer.
            logger.info("client disconnected (request id %s)", request_id)
        except Exception:
            logger.exception("unexpected error (request id %s)", request_id)
            if started:
                raise
            response = internal_error_for_path(scope["path"], request_id)
            await response(scope, receive, send_with_headers)
        finally:
            end_request(token)
