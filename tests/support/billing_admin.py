"""Drives the billing simulator's admin API over HTTP: faults, hit counts and crafted events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from app.config import DEMO_BILLING_API_KEY


@dataclass
class BillingAdmin:
    base_url: str

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {DEMO_BILLING_API_KEY}"},
            timeout=10,
        )

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with self._client() as client:
            response = await client.request(method, path, json=body)
            response.raise_for_status()
            return response.json()

    async def reset(self) -> None:
        await self._call("POST", "/admin/reset")

    async def set_faults(self, **faults: Any) -> None:
        await self._call("POST", "/admin/faults", faults)

    async def requests_received(self) -> int:
        stats = await self._call("GET", "/admin/stats")
        return int(stats["requests"])

    async def last_request_id(self) -> str | None:
        """The X-Request-ID of the last /v1 request the backend received."""
        stats = await self._call("GET", "/admin/stats")
        return stats["lastRequestId"]  # type: ignore[no-any-return]

    async def set_events(self, contract_id: str, events: list[dict[str, Any]]) -> None:
        await self._call("PUT", f"/admin/contracts/{contract_id}/events", {"events": events})

    async def events_of(self, contract_id: str) -> list[dict[str, Any]]:
        """What the backend itself says about one contract (unknown: none)."""
        async with self._client() as client:
            response = await client.get(f"/v1/contracts/{contract_id}/events")
        if response.status_code == 404:
            return []
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()["events"]
        return events
