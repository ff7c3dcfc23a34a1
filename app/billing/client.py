"""The billing backend client: the one module that speaks its HTTP API (design §5, §10).

Every failure is translated here, at the boundary, into an UpstreamError with a design §8 code;
callers turn it into a warning on a partial answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
from pydantic import ValidationError

from app.billing.schemas import Event, EventsBatch
from app.config import Settings
from app.errors import ErrorCode, UpstreamError
from app.request_context import current_counters, current_request_id

MAX_CONTRACTS_PER_CALL = 100


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one shared connection pool to the billing backend, owned by the app's lifespan."""
    deadline = settings.billing_deadline_seconds
    return httpx.AsyncClient(
        base_url=str(settings.billing_url),
        timeout=httpx.Timeout(deadline, connect=settings.billing_connect_timeout_seconds),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
        headers={"Authorization": f"Bearer {settings.billing_api_key}"},
    )


class BillingClient:
    """Reads contract events, bounded by a total deadline and a response size cap."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._deadline = settings.billing_deadline_seconds
        self._max_bytes = settings.billing_max_response_bytes

    async def events_for(self, contract_ids: Sequence[str]) -> dict[str, tuple[Event, ...]]:
        """Events of up to 100 contracts, newest first; unknown contracts have none."""
        if not 1 <= len(contract_ids) <= MAX_CONTRACTS_PER_CALL:
            raise ValueError(f"between 1 and {MAX_CONTRACTS_PER_CALL} contract ids per call")
        query = httpx.QueryParams([("contractId", cid) for cid in contract_ids])
        body = await self._get("/v1/events", query)
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

    async def _get(self, path: str, params: httpx.QueryParams) -> bytes:
        counters = current_counters()
        if counters is not None:
            counters.billing_calls += 1
        headers = {"X-Request-ID": request_id} if (request_id := current_request_id()) else {}
        try:
            async with asyncio.timeout(self._deadline):
                return await self._read(path, params, headers)
        except TimeoutError:
            raise UpstreamError(
                ErrorCode.UPSTREAM_TIMEOUT, "The billing backend did not answer in time."
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            raise UpstreamError(
                ErrorCode.UPSTREAM_UNAVAILABLE, "The billing backend is unreachable."
            ) from None
        except httpx.TimeoutException:
            raise UpstreamError(
                ErrorCode.UPSTREAM_TIMEOUT, "The billing backend did not answer in time."
            ) from None
        except httpx.TransportError:
            raise UpstreamError(
                ErrorCode.UPSTREAM_UNAVAILABLE, "The billing backend broke off the connection."
            ) from None

    async def _read(self, path: str, params: httpx.QueryParams, headers: dict[str, str]) -> bytes:
        async with self._http.stream("GET", path, params=params, headers=headers) as response:
            if response.status_code != 200:
                unavailable = response.status_code == 429 or response.status_code >= 500
                raise UpstreamError(
                    ErrorCode.UPSTREAM_UNAVAILABLE
                    if unavailable
                    else ErrorCode.UPSTREAM_BAD_RESPONSE,
                    f"The billing backend answered HTTP {response.status_code}.",
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise UpstreamError(
                        ErrorCode.UPSTREAM_BAD_RESPONSE,
                        "The billing backend's answer is too large.",
                    )
            return bytes(body)
