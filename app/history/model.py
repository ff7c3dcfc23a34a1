"""Value types of the history engine: items, their total order, scopes, filters and pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal, NamedTuple

from app.billing.schemas import Event
from app.errors import ErrorCode

INT32_MAX = 2**31 - 1
OPEN_STATUSES = frozenset({"open", "pending"})


class ItemType(StrEnum):
    TICKET = "ticket"
    GRID_MESSAGE = "gridMessage"
    DELIVERY = "delivery"


# Newest first; on equal times tickets come before grid messages before deliveries.
TYPE_RANK: dict[ItemType, int] = {
    ItemType.TICKET: 2,
    ItemType.GRID_MESSAGE: 1,
    ItemType.DELIVERY: 0,
}

SortKey = tuple[int, int, int]
"""(createdAt, type rank, source id): items are listed by this key, descending."""


class HistoryItem(NamedTuple):
    """One entry of a timeline, whatever its source.

    A named tuple rather than a frozen dataclass, as `Ticket`: pages build hundreds of them, and a
    tuple is built about five times faster.
    """

    type: ItemType
    source_id: int
    channel: str | None
    sub_channel: str | None
    status: str | None
    subject: str | None
    url: str | None
    created_at: int

    @property
    def sort_key(self) -> SortKey:
        return (self.created_at, TYPE_RANK[self.type], self.source_id)

    @classmethod
    def from_event(cls, event: Event) -> HistoryItem:
        if event.kind == "gridMessage":
            return cls(
                ItemType.GRID_MESSAGE,
                event.id,
                None,
                event.counterpart_role,
                None,
                event.subject,
                event.url,
                event.occurred_at,
            )
        return cls(
            ItemType.DELIVERY,
            event.id,
            None,
            None,
            None,
            event.subject,
            event.url,
            event.occurred_at,
        )


class Ticket(NamedTuple):
    """A helpdesk ticket as the engine sees it."""

    id: int
    channel: str
    sub_channel: str | None
    status: str
    priority: str
    direction: str
    subject: str | None
    from_name: str | None
    from_addr: str | None
    url: str | None
    contract_id: str | None
    customer_id: str | None
    created_at: int

    def as_item(self) -> HistoryItem:
        return HistoryItem(
            ItemType.TICKET,
            self.id,
            self.channel,
            self.sub_channel,
            self.status,
            self.subject,
            self.url,
            self.created_at,
        )


@dataclass(frozen=True, slots=True)
class Contract:
    """An energy contract; its id is also the billing backend's."""

    id: str
    customer_id: str
    energy: str
    status: str
    product_name: str | None
    malo_id: str | None
    grid_operator_name: str | None
    delivery_address: str | None
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    firstname: str | None
    lastname: str | None
    company: str | None
    email: str | None
    phone: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose history: a contract's, a customer's, or a lone ticket's (design §6)."""

    kind: Literal["contract", "customer", "ticket"]
    key: str

    @classmethod
    def of_ticket(cls, ticket: Ticket) -> Scope:
        if ticket.contract_id is not None:
            return cls("contract", ticket.contract_id)
        if ticket.customer_id is not None:
            return cls("customer", ticket.customer_id)
        return cls("ticket", str(ticket.id))


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Narrows a history by item type, ticket channel and a [since, until) time range."""

    types: frozenset[ItemType] | None = None
    channels: frozenset[str] | None = None
    since: int | None = None
    until: int | None = None

    @property
    def wants_tickets(self) -> bool:
        # An empty channel list is a filter that no ticket passes.
        return (self.types is None or ItemType.TICKET in self.types) and (
            self.channels is None or bool(self.channels)
        )

    @property
    def wants_events(self) -> bool:
        # Billing events have no channel, so a channel filter leaves only tickets.
        return self.channels is None and (
            self.types is None or bool(self.types - {ItemType.TICKET})
        )

    def keeps(self, item: HistoryItem) -> bool:
        """Whether an in-memory (billing) item passes; tickets are filtered in SQL."""
        return (
            (self.types is None or item.type in self.types)
            and (self.channels is None or item.channel in self.channels)
            and (self.since is None or item.created_at >= self.since)
            and (self.until is None or item.created_at < self.until)
        )


NO_FILTER = HistoryFilter()


@dataclass(frozen=True, slots=True)
class TicketWindow:
    """Which tickets of a scope one page needs: an offset slice or a keyset slice.

    `after` selects tickets older than the key, `before` tickets newer than it (both exclusive).
    Tickets are read newest first, or oldest first when `oldest_first` (for `last` pages).
    """

    scope: Scope
    filter: HistoryFilter
    limit: int
    offset: int = 0
    after: SortKey | None = None
    before: SortKey | None = None
    oldest_first: bool = False


@dataclass(frozen=True, slots=True)
class ScopeCounts:
    """Tickets in a scope that pass a filter, and open or pending ones regardless of it."""

    tickets: int
    open_tickets: int


@dataclass(frozen=True, slots=True)
class SourceWarning:
    """A source that failed; the answer is partial."""

    source: str
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class KeysetRequest:
    """A Relay-style page request: `first` items after a key, or `last` items before one."""

    first: int | None = None
    after: SortKey | None = None
    last: int | None = None
    before: SortKey | None = None


@dataclass(frozen=True, slots=True)
class KeysetPage:
    """A page of a history walked by keys, newest first."""

    items: list[HistoryItem]
    has_next_page: bool
    has_previous_page: bool
    warnings: list[SourceWarning] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not self.warnings


@dataclass(frozen=True, slots=True)
class HistoryTotals:
    total: int
    opened_tickets: int
    warnings: list[SourceWarning] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of a merged history and the totals the answer could see."""

    items: list[HistoryItem]
    total: int
    opened_tickets: int
    warnings: list[SourceWarning] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not self.warnings
