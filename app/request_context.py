"""Per-request state carried in context variables: the request id and the source-call counters.

Context variables follow the request into every task it spawns (loader batches included) and into
SQLAlchemy's driver callbacks, so statements are counted where the driver runs them.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class RequestCounters:
    """How many SQL statements and billing calls one request caused."""

    sql_statements: int = 0
    billing_calls: int = 0


@dataclass(frozen=True)
class RequestState:
    request_id: str
    counters: RequestCounters


_state: ContextVar[RequestState | None] = ContextVar("request_state", default=None)


def current_counters() -> RequestCounters | None:
    state = _state.get()
    return state.counters if state is not None else None


def current_request_id() -> str | None:
    state = _state.get()
    return state.request_id if state is not None else None


def begin_request(request_id: str) -> tuple[RequestCounters, Token[RequestState | None]]:
    """Start counting for the request running in the current context."""
    counters = RequestCounters()
    return counters, _state.set(RequestState(request_id, counters))


def end_request(token: Token[RequestState | None]) -> None:
    _state.reset(token)
