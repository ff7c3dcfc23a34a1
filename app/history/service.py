"""HistoryService: the one home of ticket-history logic, used by every transport."""

from __future__ import annotations

import asyncio

from app.errors import NotFound, UpstreamError
from app.history.loaders import Loaders
from app.history.merge import newest_first, page_at_offset
from app.history.model import (
    INT32_MAX,
    NO_FILTER,
    OPEN_STATUSES,
    HistoryFilter,
    HistoryItem,
    HistoryPage,
    Scope,
    SourceWarning,
    Ticket,
    TicketWindow,
)

# Billing events an offset page may have to step over, read ahead of the ticket window so the
# SQL runs concurrently with the billing call; a scope with more events costs a second statement.
EVENT_ALLOWANCE = 100

BILLING_SOURCE = "billing"


class HistoryService:
    """Answers history questions for one request, reading only through its loaders."""

    def __init__(self, loaders: Loaders) -> None:
        self._loaders = loaders

    async def ticket(self, ticket_id: int) -> Ticket:
        ticket = await self._loaders.ticket.load(ticket_id) if 0 < ticket_id <= INT32_MAX else None
        if ticket is None:
            raise NotFound(f"Ticket {ticket_id} does not exist.")
        return ticket

    async def ticket_history_at_offset(
        self, ticket_id: int, *, offset: int, limit: int
    ) -> HistoryPage:
        """Items [offset, offset + limit) of a ticket's history (the REST shim's paging)."""
        ticket = await self.ticket(ticket_id)
        scope = Scope.of_ticket(ticket)
        tickets_start = max(0, offset - EVENT_ALLOWANCE)
        counts, tickets, (events, warnings) = await asyncio.gather(
            self._loaders.scope_counts.load((scope, NO_FILTER)),
            self._ticket_slice(scope, tickets_start, offset + limit),
            self._events(scope, NO_FILTER),
        )
        exact_start = max(0, offset - len(events))
        if tickets_start > exact_start:
            tickets_start = exact_start
            tickets = await self._ticket_slice(scope, tickets_start, offset + limit)
        anchor_open = 1 if ticket.status in OPEN_STATUSES else 0
        return HistoryPage(
            items=page_at_offset(tickets, tickets_start, events, offset, limit),
            total=counts.tickets + len(events),
            opened_tickets=counts.open_tickets - anchor_open,
            warnings=warnings,
        )

    async def _ticket_slice(self, scope: Scope, start: int, stop: int) -> list[HistoryItem]:
        window = TicketWindow(scope, NO_FILTER, limit=stop - start, offset=start)
        return [ticket.as_item() for ticket in await self._loaders.ticket_window.load(window)]

    async def _contract_ids(self, scope: Scope) -> list[str]:
        if scope.kind == "contract":
            return [scope.key]
        if scope.kind == "customer":
            return await self._loaders.customer_contracts.load(scope.key)
        return []

    async def _events(
        self, scope: Scope, history_filter: HistoryFilter
    ) -> tuple[list[HistoryItem], list[SourceWarning]]:
        """The scope's billing events passing the filter, newest first, or why there are none."""
        if not history_filter.wants_events:
            return [], []
        contract_ids = await self._contract_ids(scope)
        if not contract_ids:
            return [], []
        try:
            per_contract = await self._loaders.contract_events.load_many(contract_ids)
        except UpstreamError as error:
            return [], [SourceWarning(BILLING_SOURCE, error.code, error.message)]
        events = newest_first(*per_contract)
        if history_filter != NO_FILTER:
            events = [event for event in events if history_filter.keeps(event)]
        return events, []
