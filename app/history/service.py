"""HistoryService: the one home of ticket-history logic, used by every transport."""

from __future__ import annotations

import asyncio

from app.auth.agents import Agent
from app.errors import BadUserInput, NotFound, UpstreamError
from app.history.loaders import Loaders
from app.history.merge import newest_first, page_after, page_at_offset, page_before
from app.history.model import (
    INT32_MAX,
    NO_FILTER,
    OPEN_STATUSES,
    Contract,
    Customer,
    HistoryFilter,
    HistoryItem,
    HistoryPage,
    HistoryTotals,
    KeysetPage,
    KeysetRequest,
    Scope,
    ScopeCounts,
    SourceWarning,
    Ticket,
    TicketWindow,
)

# Billing events an offset page may have to step over, read ahead of the ticket window so the
# SQL runs concurrently with the billing call; a scope with more events costs a second statement.
EVENT_ALLOWANCE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 20

BILLING_SOURCE = "billing"


class HistoryService:
    """Answers history questions for one request, reading only through its loaders."""

    def __init__(self, loaders: Loaders, viewer: Agent) -> None:
        self._loaders = loaders
        self.viewer = viewer

    async def ticket(self, ticket_id: int) -> Ticket:
        found = await self.find_ticket(ticket_id)
        if found is None:
            raise NotFound(f"Ticket {ticket_id} does not exist.")
        return found

    async def find_ticket(self, ticket_id: int) -> Ticket | None:
        if not 0 < ticket_id <= INT32_MAX:
            return None
        return await self._loaders.ticket_of(ticket_id)

    async def tickets(self, ticket_ids: list[int]) -> list[Ticket | None]:
        """Tickets in the order asked, None where unknown."""
        return list(await asyncio.gather(*(self.find_ticket(i) for i in ticket_ids)))

    async def find_contract(self, contract_id: str) -> Contract | None:
        return await self._loaders.contract.load(contract_id)

    async def find_customer(self, customer_id: str) -> Customer | None:
        return await self._loaders.customer.load(customer_id)

    async def ticket_history_at_offset(
        self, ticket_id: int, *, offset: int, limit: int
    ) -> HistoryPage:
        """Items [offset, offset + limit) of a ticket's history (the REST shim's paging)."""
        ticket = await self.ticket(ticket_id)
        scope = Scope.of_ticket(ticket)
        tickets_start = max(0, offset - EVENT_ALLOWANCE)
        _, counts, tickets, (events, warnings) = await asyncio.gather(
            self._loaders.access_log.load((ticket.id, None)),
            self._loaders.scope_counts.load((scope, NO_FILTER)),
            self._tickets(
                TicketWindow(scope, NO_FILTER, offset + limit - tickets_start, tickets_start)
            ),
            self._events(scope, NO_FILTER),
        )
        exact_start = max(0, offset - len(events))
        if tickets_start > exact_start:
            tickets_start = exact_start
            tickets = await self._tickets(
                TicketWindow(scope, NO_FILTER, offset + limit - tickets_start, tickets_start)
            )
        totals = _totals(counts, events, warnings, ticket)
        return HistoryPage(
            items=page_at_offset(tickets, tickets_start, events, offset, limit),
            total=totals.total,
            opened_tickets=totals.opened_tickets,
            warnings=warnings,
        )

    async def keyset_page(
        self,
        scope: Scope,
        history_filter: HistoryFilter,
        request: KeysetRequest,
        anchor: Ticket | None,
    ) -> KeysetPage:
        """A Relay-style page of a scope's history: `first` after a key or `last` before one.

        The read is logged as the anchor ticket's history, or else as the contract's.
        """
        if request.first is not None and request.last is not None:
            raise BadUserInput("Pass either `first` or `last`, not both.")
        # Relay allows `after` and `before` together; a page here has one direction.
        if (request.after is not None and request.last is not None) or (
            request.before is not None and request.last is None
        ):
            raise BadUserInput("Pass `after` with `first`, and `before` with `last`.")
        for name, size in (("first", request.first), ("last", request.last)):
            if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
                raise BadUserInput(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.")
        read = (anchor.id, None) if anchor is not None else (None, scope.key)
        page, _ = await asyncio.gather(
            self._page(scope, history_filter, request), self._loaders.access_log.load(read)
        )
        return page

    async def _page(
        self, scope: Scope, history_filter: HistoryFilter, request: KeysetRequest
    ) -> KeysetPage:
        if request.last is not None:
            window = TicketWindow(
                scope, history_filter, request.last + 1, before=request.before, oldest_first=True
            )
            tickets, (events, warnings) = await asyncio.gather(
                self._tickets(window), self._events(scope, history_filter)
            )
            items, more_before = page_before(tickets, events, request.before, request.last)
            return KeysetPage(items, request.before is not None, more_before, warnings)
        first = DEFAULT_PAGE_SIZE if request.first is None else request.first
        window = TicketWindow(scope, history_filter, first + 1, after=request.after)
        tickets, (events, warnings) = await asyncio.gather(
            self._tickets(window), self._events(scope, history_filter)
        )
        items, more_after = page_after(tickets, events, request.after, first)
        return KeysetPage(items, more_after, request.after is not None, warnings)

    async def totals(
        self, scope: Scope, history_filter: HistoryFilter, anchor: Ticket | None
    ) -> HistoryTotals:
        """Items of the scope passing the filter, and its open tickets other than the anchor."""
        counts, (events, warnings) = await asyncio.gather(
            self._loaders.scope_counts.load((scope, history_filter)),
            self._events(scope, history_filter),
        )
        return _totals(counts, events, warnings, anchor)

    async def _tickets(self, window: TicketWindow) -> list[HistoryItem]:
        return [ticket.as_item() for ticket in await self._loaders.ticket_window.load(window)]

    async def _events(
        self, scope: Scope, history_filter: HistoryFilter
    ) -> tuple[list[HistoryItem], list[SourceWarning]]:
        """The scope's billing events passing the filter, newest first, or why there are none."""
        if not history_filter.wants_events:
            return [], []
        contract_ids = await self._loaders.scope_contracts.load(scope)
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


def _totals(
    counts: ScopeCounts,
    events: list[HistoryItem],
    warnings: list[SourceWarning],
    anchor: Ticket | None,
) -> HistoryTotals:
    anchor_open = anchor is not None and anchor.status in OPEN_STATUSES
    return HistoryTotals(
        total=counts.tickets + len(events),
        opened_tickets=counts.open_tickets - int(anchor_open),
        warnings=warnings,
    )
