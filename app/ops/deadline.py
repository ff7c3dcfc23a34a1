"""ASGI middleware: an overall deadline per request (REQUEST_DEADLINE_SECONDS).

A request still unanswered then is cut, so no request holds a worker, a connection or a client
for longer than the deadline: 503 SERVICE_UNAVAILABLE when the gateway was at work, 408 when it
was still waiting for the client to send its body.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ErrorCode
from app.http_errors import error_for_path


class DeadlineMiddleware:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = receiving = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def tracking_receive() -> Message:
            nonlocal receiving
            receiving = True  # still True if the deadline cuts the wait
            message = await receive()
            receiving = False
            return message

        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, tracking_receive, tracking_send)
        except TimeoutError:
            if started or not deadline.expired():
                raise
            if receiving:
                response = error_for_path(
                    scope["path"],
                    ErrorCode.BAD_USER_INPUT,
                    f"The request body did not arrive within {self.seconds:g} s.",
                    408,
                )
            else:
                response = error_for_path(
                    scope["path"],
                    ErrorCode.SERVICE_UNAVAILABLE,
                    f"The request took longer than {self.seconds:g} s.",
                    503,
                )
            await response(scope, receive, send)
