"""Per-request DataLoaders: every fetch of the engine goes through one, batched and de-duplicated.

Build a `Loaders` inside the running event loop for each request (aiodataloader binds the loop at
construction and caches for its lifetime), never at import or start-up, never shared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncEngine

from app.billing.cache import EventsCache
from app.billing.client import MAX_CONTRACTS_PER_CALL, BillingClient
from app.db import queries
from app.db.access import read_connection
from app.errors import UpstreamError
from app.history.model import (
    Contract,
    Customer,
    HistoryFilter,
    HistoryItem,
    Scope,
    ScopeCounts,
    Ticket,
    TicketWindow,
)
from app.ops.metrics import LOADER_BATCH_SIZE
from app.request_context import current_request_id

# SQLite caps a compound SELECT at 500 members; 100 pages per statement stays well inside.
MAX_SQL_BATCH = 100


@dataclass(frozen=True)
class Sources:
    """The long-lived handles the loaders read from (owned by the app's lifespan)."""

    engine: AsyncEngine
    billing: BillingClient
    events_cache: EventsCache | None = None


K = TypeVar("K")
V = TypeVar("V")


def _observed(
    name: str,
    batch: Callable[[Sequence[K]], Awaitable[list[V]]],
    max_batch_size: int = MAX_SQL_BATCH,
) -> DataLoader[K, V]:
    """A DataLoader whose batch sizes are recorded in the metrics."""

    async def load_batch(keys: list[K]) -> list[V]:
        LOADER_BATCH_SIZE.labels(name).observe(len(keys))
        return await batch(keys)

    return DataLoader(load_batch, max_batch_size=max_batch_size)


Read = tuple[int | None, str | None]
"""What an agent read: a ticket's history (ticket id) or a contract's (contract id)."""


class Loaders:
    """One DataLoader per kind of fetch, for one request, on behalf of one agent."""

    def __init__(self, sources: Sources, agent_id: int) -> None:
        self._sources = sources
        self._agent_id = agent_id
        self._in_windows: dict[int, Ticket] = {}
        self.access_log: DataLoader[Read, None] = _observed("access_log", self._log_reads)
        self.ticket: DataLoader[int, Ticket | None] = _observed("ticket", self._tickets)
        self.contract: DataLoader[str, Contract | None] = _observed("contract", self._contracts)
        self.customer: DataLoader[str, Customer | None] = _observed("customer", self._customers)
        self.ticket_window: DataLoader[TicketWindow, list[Ticket]] = _observed(
            "ticket_window", self._ticket_windows
        )
        self.scope_counts: DataLoader[tuple[Scope, HistoryFilter], ScopeCounts] = _observed(
            "scope_counts", self._scope_counts
        )
        self.scope_contracts: DataLoader[Scope, list[str]] = _observed(
            "scope_contracts", self._scope_contracts
        )
        # An exception as a value fails just the loads of those keys, each with the same cause.
        self.contract_events: DataLoader[str, tuple[HistoryItem, ...]] = _observed(
            "contract_events",
            self._contract_events,  # type: ignore[arg-type]
            max_batch_size=MAX_CONTRACTS_PER_CALL,
        )

    async def _log_reads(self, reads: Sequence[Read]) -> list[None]:
        """Record reads in the access log: who, what, which request, when; never content."""
        await queries.log_reads(self._sources.engine, self._agent_id, reads, current_request_id())
        return [None] * len(reads)

    async def ticket_of(self, ticket_id: int) -> Ticket | None:
        """A ticket, at once when a history window of this request has read it already (a
        timeline often links each ticket item to its ticket), else through the loader."""
        known = self._in_windows.get(ticket_id)
        return known if known is not None else await self.ticket.load(ticket_id)

    async def _tickets(self, ids: Sequence[int]) -> list[Ticket | None]:
        found = await queries.tickets_by_ids(self._sources.engine, ids)
        return [found.get(ticket_id) for ticket_id in ids]

    async def _contracts(self, ids: Sequence[str]) -> list[Contract | None]:
        async with read_connection(self._sources.engine) as connection:
            found = await queries.contracts_by_ids(connection, ids)
        return [found.get(contract_id) for contract_id in ids]

    async def _customers(self, ids: Sequence[str]) -> list[Customer | None]:
        async with read_connection(self._sources.engine) as connection:
            found = await queries.customers_by_ids(connection, ids)
        return [found.get(customer_id) for customer_id in ids]

    async def _ticket_windows(self, windows: Sequence[TicketWindow]) -> list[list[Ticket]]:
        found = await queries.ticket_windows(self._sources.engine, windows)
        # Kept for `ticket_of` rather than primed: priming makes a future per ticket, and most
        # are never asked for.
        for tickets in found:
            self._in_windows.update((ticket.id, ticket) for ticket in tickets)
        return found

    async def _scope_counts(self, keys: Sequence[tuple[Scope, HistoryFilter]]) -> list[ScopeCounts]:
        return await queries.scope_counts(self._sources.engine, keys)

    async def _scope_contracts(self, scopes: Sequence[Scope]) -> list[list[str]]:
        """The contracts whose billing events belong to each scope.

        Every scope goes through this one loader, even a contract's, which needs no SQL: so the
        billing calls of all scopes asked together start together, as one batch.
        """
        customer_ids = [scope.key for scope in scopes if scope.kind == "customer"]
        of_customer: dict[str, list[str]] = {}
        if customer_ids:
            async with read_connection(self._sources.engine) as connection:
                of_customer = await queries.contract_ids_of_customers(connection, customer_ids)
        return [
            [scope.key] if scope.kind == "contract" else of_customer.get(scope.key, [])
            for scope in scopes
        ]

    async def _contract_events(
        self, contract_ids: Sequence[str]
    ) -> list[tuple[HistoryItem, ...] | UpstreamError]:
        cache = self._sources.events_cache
        found = await cache.get_many(contract_ids) if cache is not None else {}
        missing = [cid for cid in contract_ids if cid not in found]
        if missing:
            try:
                fetched = await self._sources.billing.events_for(missing)
            except UpstreamError as error:
                return [error] * len(contract_ids)
            if cache is not None:
                await cache.put_many(fetched)
            found |= fetched
        return [
            tuple(sorted(map(HistoryItem.from_event, found[cid]), key=_newest_first))
            for cid in contract_ids
        ]


def _newest_first(item: HistoryItem) -> tuple[int, int, int]:
    created_at, rank, source_id = item.sort_key
    return (-created_at, -rank, -source_id)
