"""The billing backend client: the one module that speaks its HTTP API (design §5, §10).

Every call is bounded: a circuit breaker fails it at once while the backend is known to be down,
a bulkhead caps concurrent calls (waiting briefly for a slot), and one total deadline covers the
call, its body and its single retry. Only this idempotent GET is retried, and only on connect
errors, 502/503/504 and 429 (honouring a capped Retry-After), after a full-jitter backoff, while
the retry budget and the deadline allow. Every failure is translated here, at the boundary, into
an UpstreamError with a design §8 code; callers turn it into a warning on a partial answer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from pydantic import ValidationError

from app.billing.breaker import BreakerState, CircuitBreaker
from app.billing.budget import RetryBudget
from app.billing.schemas import Event, EventsBatch
from app.config import Settings
from app.errors import ErrorCode, UpstreamError
from app.ops.metrics import BILLING_CALLS, BREAKER_STATE
from app.request_context import current_counters, current_request_id

MAX_CONTRACTS_PER_CALL = 100
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_MAX_BACKOFF_SECONDS = 0.25
_BREAKER_LEVEL = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one shared connection pool to the billing backend, owned by the app's lifespan.

    httpx's API on aiohttp's connection pool and C HTTP parser by default: at concurrency 32 a
    billing call cost about 0.95 ms of CPU through httpcore and 0.35 ms through aiohttp
    (docs/architecture.md). BILLING_TRANSPORT=httpcore is httpx's own pool, should aiohttp's
    misbehave; both map every failure alike.
    """
    limits = httpx.Limits(
        max_connections=settings.billing_max_concurrency,
        max_keepalive_connections=settings.billing_max_concurrency,
    )
    transport: httpx.AsyncBaseTransport = (
        AiohttpTransport(limits=limits)
        if settings.billing_transport == "aiohttp"
        else httpx.AsyncHTTPTransport(limits=limits)
    )
    return httpx.AsyncClient(
        transport=transport,
        base_url=str(settings.billing_url),
        timeout=httpx.Timeout(
            settings.billing_deadline_seconds, connect=settings.billing_connect_timeout_seconds
        ),
        headers={"Authorization": f"Bearer {settings.billing_api_key}"},
    )


class _Retryable(Exception):
    """A failed attempt that another attempt might fix."""

    def __init__(self, failure: UpstreamError, retry_after: float | None = None) -> None:
        self.failure = failure
        self.retry_after = retry_after


class BillingClient:
    """Reads contract events; shared by all requests of a process."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self.breaker = CircuitBreaker(
            failures_to_open=settings.billing_breaker_failures,
            open_seconds=settings.billing_breaker_open_seconds,
        )
        self._budget = RetryBudget(settings.billing_retry_budget_ratio)
        self._slots = asyncio.Semaphore(settings.billing_max_concurrency)

    async def events_for(self, contract_ids: Sequence[str]) -> dict[str, tuple[Event, ...]]:
        """Events of up to 100 contracts, newest first; unknown contracts have none."""
        if not 1 <= len(contract_ids) <= MAX_CONTRACTS_PER_CALL:
            raise ValueError(f"between 1 and {MAX_CONTRACTS_PER_CALL} contract ids per call")
        query = httpx.QueryParams([("contractId", cid) for cid in contract_ids])
        body = await self._guarded_get("/v1/events", query)
        try:
            batch = EventsBatch.model_validate_json(body)
        except ValidationError:
            raise UpstreamError(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "The billing backend sent an invalid answer."
            ) from None
        answered = set(batch.events) | set(batch.unknown_contract_ids)
        if not answered.issuperset(contract_ids):
            raise UpstreamError(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "The billing backend left contracts unanswered."
            )
        return {cid: tuple(batch.events.get(cid, ())) for cid in contract_ids}

    async def _guarded_get(self, path: str, query: httpx.QueryParams) -> bytes:
        if not self.breaker.allow():
            BILLING_CALLS.labels("not_asked").inc()
            raise UpstreamError(
                ErrorCode.UPSTREAM_UNAVAILABLE, "The billing backend is failing; not asked."
            )
        verdict = False
        try:
            body = await self._within_slot(path, query)
        except UpstreamError as error:
            BILLING_CALLS.labels(error.code.value).inc()
            verdict = error.backend_at_fault
            if verdict:
                self.breaker.failed()
            raise
        else:
            BILLING_CALLS.labels("ok").inc()
            verdict = True
            self.breaker.succeeded()
            return body
        finally:
            if not verdict:
                self.breaker.released()
            BREAKER_STATE.set(_BREAKER_LEVEL[self.breaker.state])

    async def _within_slot(self, path: str, query: httpx.QueryParams) -> bytes:
        try:
            await asyncio.wait_for(
                self._slots.acquire(), timeout=self._settings.billing_queue_wait_seconds
            )
        except TimeoutError:
            raise UpstreamError(
                ErrorCode.UPSTREAM_UNAVAILABLE,
                "The billing backend is busy; not asked.",
                backend_at_fault=False,
            ) from None
        try:
            return await self._with_retry(path, query)
        finally:
            self._slots.release()

    async def _with_retry(self, path: str, query: httpx.QueryParams) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.billing_deadline_seconds
        self._budget.called()
        for attempt in (1, 2):
            try:
                async with asyncio.timeout_at(deadline):
                    return await self._attempt(path, query)
            except TimeoutError:
                raise UpstreamError(
                    ErrorCode.UPSTREAM_TIMEOUT, "The billing backend did not answer in time."
                ) from None
            except _Retryable as retryable:
                pause = self._pause(retryable)
                time_left = deadline - loop.time()
                # A second try needs room for a connect and an answer, and budget to spare.
                if attempt == 2 or pause + self._settings.billing_connect_timeout_seconds >= (
                    time_left
                ):
                    raise retryable.failure from None
                if not self._budget.try_spend():
                    raise retryable.failure from None
                await asyncio.sleep(pause)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _pause(self, retryable: _Retryable) -> float:
        if retryable.retry_after is not None:
            return min(retryable.retry_after, self._settings.billing_retry_after_cap_seconds)
        ceiling = min(_MAX_BACKOFF_SECONDS, self._settings.billing_retry_backoff_seconds)
        return random.uniform(0, ceiling)

    async def _attempt(self, path: str, query: httpx.QueryParams) -> bytes:
        counters = current_counters()
        if counters is not None:
            counters.billing_calls += 1
        headers = {"X-Request-ID": request_id} if (request_id := current_request_id()) else {}
        try:
            return await self._read(path, query, headers)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            # httpx-aiohttp also reports a connection the backend closed before answering so.
            raise _Retryable(
                UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, "The billing backend is unreachable.")
            ) from None
        except httpx.TimeoutException:
            raise UpstreamError(
                ErrorCode.UPSTREAM_TIMEOUT, "The billing backend did not answer in time."
            ) from None
        except (httpx.RemoteProtocolError, aiohttp.ClientResponseError):
            # Not HTTP: a bad status line or bad headers (aiohttp's parser errors come unmapped).
            raise UpstreamError(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "The billing backend sent a malformed answer."
            ) from None
        except (httpx.HTTPError, aiohttp.ClientError, OSError):
            raise UpstreamError(
                ErrorCode.UPSTREAM_UNAVAILABLE, "The billing backend broke off the connection."
            ) from None

    async def _read(self, path: str, params: httpx.QueryParams, headers: dict[str, str]) -> bytes:
        async with self._http.stream("GET", path, params=params, headers=headers) as response:
            if response.status_code != 200:
                raise _status_failure(response)
            body = bytearray()
            try:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._settings.billing_max_response_bytes:
                        raise UpstreamError(
                            ErrorCode.UPSTREAM_BAD_RESPONSE, "The billing answer is too large."
                        )
            except (httpx.TransportError, aiohttp.ClientError, OSError):
                # The body ended early: shorter than announced, a chunk cut, or none at all.
                raise UpstreamError(
                    ErrorCode.UPSTREAM_UNAVAILABLE, "The billing backend broke off its answer."
                ) from None
            return bytes(body)


def _status_failure(response: httpx.Response) -> Exception:
    status = response.status_code
    message = f"The billing backend answered HTTP {status}."
    if status in _RETRY_STATUSES:
        return _Retryable(
            UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, message),
            retry_after=_seconds(response.headers.get("Retry-After")),
        )
    code = ErrorCode.UPSTREAM_UNAVAILABLE if status >= 500 else ErrorCode.UPSTREAM_BAD_RESPONSE
    return UpstreamError(code, message, backend_at_fault=not 400 <= status < 500)


def _seconds(retry_after: str | None) -> float | None:
    if retry_after is None:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        return None  # an HTTP date: fall back to the jittered backoff
