"""Injected faults of the billing simulator and the ASGI wrapper that applies them.

Order of play for a request: latency (plus jitter), then hang, then an error status (the
`fail_next` countdown first, then `error_rate`), then the real answer, whose body may be made
malformed, padded beyond `oversize_bytes`, dripped slowly, or cut off by a connection reset, or
whose HTTP framing may be broken (`framing`: a bad status line, a body shorter than its
Content-Length, a chunked body cut inside a chunk, headers and then a closed connection).
Random decisions draw from a generator seeded from the simulator seed, so a run replays.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.billing.simulator.raw_wire import Framing, broken_answer, write_and_close

_BOOL_FIELDS = frozenset({"hang", "malformed", "reset"})
_FLOAT_FIELDS = frozenset({"error_rate"})
_BODY_CHUNK = 64 * 1024
_DRIP_TICK_SECONDS = 0.05


@dataclass(slots=True)
class Faults:
    """A fault set; all off by default. Mutable: `fail_next` counts down as requests fail."""

    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0
    hang: bool = False
    drip_bytes_per_second: int = 0
    malformed: bool = False
    oversize_bytes: int = 0
    reset: bool = False
    framing: Framing | None = None

    def __post_init__(self) -> None:
        for name in (
            "latency_ms",
            "jitter_ms",
            "fail_next",
            "drip_bytes_per_second",
            "oversize_bytes",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        self.error_rate = float(self.error_rate)
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if not 400 <= self.error_status <= 599:
            raise ValueError("error_status must be an HTTP error status (400-599)")
        if self.framing is not None:
            try:
                self.framing = Framing(self.framing)
            except ValueError:
                choices = ", ".join(framing.value for framing in Framing)
                raise ValueError(f"framing must be one of {choices}") from None

    @classmethod
    def from_json(cls, data: object) -> Faults:
        """A fault set from a JSON object of snake_case fields; omitted ones take defaults."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object of fault fields")
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        for name, value in data.items():
            if not _has_field_type(name, value):
                raise ValueError(f"{name} has the wrong type")
        return cls(**data)

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @property
    def mangles_body(self) -> bool:
        return bool(
            self.malformed
            or self.oversize_bytes
            or self.drip_bytes_per_second
            or self.reset
            or self.framing
        )


def _has_field_type(name: str, value: object) -> bool:
    if name in _BOOL_FIELDS:
        return isinstance(value, bool)
    if name == "framing":
        return value is None or isinstance(value, str)
    if isinstance(value, bool):
        return False
    if name in _FLOAT_FIELDS:
        return isinstance(value, int | float)
    return isinstance(value, int)


class LiveFaults:
    """The fault set in force and the random source its decisions draw from."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self._seed = seed
        self.replace(faults)

    def replace(self, faults: Faults) -> None:
        """Put FAULTS (a copy) in force; the random source restarts, so decisions replay."""
        self.faults = dataclasses.replace(faults)
        self._rng = random.Random(f"{self._seed}:faults")

    def delay_seconds(self) -> float:
        faults = self.faults
        jitter = self._rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0.0
        return (faults.latency_ms + jitter) / 1000

    def should_fail(self) -> bool:
        faults = self.faults
        if faults.fail_next > 0:
            faults.fail_next -= 1
            return True
        return faults.error_rate > 0 and self._rng.random() < faults.error_rate


class FaultInjector:
    """ASGI wrapper applying the live faults to every request it sees."""

    def __init__(self, app: ASGIApp, live: LiveFaults) -> None:
        self.app = app
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        delay = self.live.delay_seconds()
        if delay:
            await asyncio.sleep(delay)
        faults = self.live.faults
        if faults.hang:
            await _until_disconnect(receive)
            return
        if self.live.should_fail():
            await _send_error(send, faults.error_status)
            return
        if not faults.mangles_body:
            await self.app(scope, receive, send)
            return
        response = _CapturedResponse()
        await self.app(scope, receive, response.capture)
        if faults.framing is not None:
            if write_and_close(send, broken_answer(faults.framing, bytes(response.body))):
                await _until_disconnect(receive)
                return
            raise RuntimeError("framing faults need uvicorn as the HTTP server")
        await _deliver(response, faults, receive, send)


class _CapturedResponse:
    def __init__(self) -> None:
        self.start: Message = {}
        self.body = bytearray()

    async def capture(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def _deliver(
    response: _CapturedResponse, faults: Faults, receive: Receive, send: Send
) -> None:
    body = bytes(response.body)
    if faults.malformed:
        # A JSON object cut short is never valid JSON.
        body = body[: max(1, len(body) // 2)]
    headers = [
        (k, v) for k, v in response.start.get("headers", []) if k.lower() != b"content-length"
    ]
    if faults.oversize_bytes > len(body):
        # Trailing whitespace keeps valid JSON valid; no Content-Length, so only counting helps.
        body += b" " * (faults.oversize_bytes - len(body))
    else:
        headers.append((b"content-length", str(len(body)).encode()))
    await send(
        {"type": "http.response.start", "status": response.start["status"], "headers": headers}
    )
    end = len(body) // 2 if faults.reset else len(body)
    if faults.drip_bytes_per_second:
        if not await _drip(send, receive, body[:end], faults.drip_bytes_per_second):
            return
    else:
        await _send_chunks(send, body[:end])
    # After a reset the app returns mid-body: the server then drops the connection.
    if not faults.reset:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_chunks(send: Send, body: bytes) -> None:
    for offset in range(0, len(body), _BODY_CHUNK):
        chunk = body[offset : offset + _BODY_CHUNK]
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _drip(send: Send, receive: Receive, body: bytes, bytes_per_second: int) -> bool:
    """Send BODY a few bytes per tick; False when the client went away first."""
    tick = max(_DRIP_TICK_SECONDS, 1 / bytes_per_second)
    size = max(1, round(bytes_per_second * tick))
    gone = asyncio.create_task(_until_disconnect(receive))
    try:
        for offset in range(0, len(body), size):
            chunk = body[offset : offset + size]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.wait([gone], timeout=tick)
            if gone.done():
                return False
        return True
    finally:
        gone.cancel()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_error(send: Send, status: int) -> None:
    body = b'{"error":"injected fault"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 429:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
