"""GraphQL types of a history: the item interface, its three kinds, and the Relay connection."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Protocol

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from app.errors import ErrorCode
from app.graphql.context import Info
from app.graphql.cursors import binding, decode_cursor, encode_cursor
from app.history.model import (
    INT32_MAX,
    NO_FILTER,
    HistoryFilter,
    HistoryItem,
    HistoryTotals,
    ItemType,
    KeysetRequest,
    Scope,
    Ticket,
)

if TYPE_CHECKING:
    from app.graphql.types import TicketNode


def as_datetime(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC)


def as_unix_seconds(moment: datetime) -> int:
    """Unix seconds of a DateTime argument, one without a zone taken as UTC, clamped to the
    range stored times have (a bound beyond it selects all or nothing, as it would anyway)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(-INT32_MAX - 1, min(INT32_MAX, int(moment.timestamp())))


# The domain's item types, exposed as they are: the GraphQL enum is the same class.
strawberry.enum(ItemType, name="HistoryItemType")


@strawberry.enum
class Source(Enum):
    BILLING = "billing"


@strawberry.enum
class WarningCode(Enum):
    UPSTREAM_TIMEOUT = ErrorCode.UPSTREAM_TIMEOUT.value
    UPSTREAM_UNAVAILABLE = ErrorCode.UPSTREAM_UNAVAILABLE.value
    UPSTREAM_BAD_RESPONSE = ErrorCode.UPSTREAM_BAD_RESPONSE.value


@strawberry.type
class SourceWarning:
    """A source that failed: the connection is partial."""

    source: Source
    code: WarningCode
    message: str


@strawberry.interface(name="HistoryItem", description="One entry of a timeline, any source.")
class HistoryEntry:
    id: strawberry.ID = strawberry.field(description="Stable and opaque, for client caches.")
    type: ItemType
    subject: str | None
    url: str | None
    created_at: datetime


@strawberry.type(description="A helpdesk ticket as it appears in a timeline.")
class TicketEvent(HistoryEntry):
    ticket_id: int
    channel: str | None
    sub_channel: str | None = strawberry.field(description="The subchannel key, e.g. facebook.")
    status: str | None

    @strawberry.field(description="The whole ticket.")
    async def ticket(
        self, info: Info
    ) -> Annotated[TicketNode, strawberry.lazy("app.graphql.types")] | None:
        from app.graphql.types import TicketNode

        found = await info.context.history.find_ticket(self.ticket_id)
        return TicketNode.of(found) if found is not None else None


@strawberry.type(description="A market message exchanged with a grid operator or supplier.")
class GridMessageEvent(HistoryEntry):
    counterpart_role: str | None


@strawberry.type(description="The start or end of energy delivery.")
class DeliveryEvent(HistoryEntry):
    pass


def _opaque_id(item: HistoryItem) -> strawberry.ID:
    return strawberry.ID(
        base64.urlsafe_b64encode(f"{item.type.value}:{item.source_id}".encode()).decode()
    )


def as_entry(item: HistoryItem) -> HistoryEntry:
    opaque_id, created_at = _opaque_id(item), as_datetime(item.created_at)
    if item.type is ItemType.TICKET:
        return TicketEvent(
            id=opaque_id,
            type=item.type,
            subject=item.subject,
            url=item.url,
            created_at=created_at,
            ticket_id=item.source_id,
            channel=item.channel,
            sub_channel=item.sub_channel,
            status=item.status,
        )
    if item.type is ItemType.GRID_MESSAGE:
        return GridMessageEvent(
            id=opaque_id,
            type=item.type,
            subject=item.subject,
            url=item.url,
            created_at=created_at,
            counterpart_role=item.sub_channel,
        )
    return DeliveryEvent(
        id=opaque_id, type=item.type, subject=item.subject, url=item.url, created_at=created_at
    )


@strawberry.input(description="Narrows a history; `totalCount` follows it.")
class HistoryFilterInput:
    types: list[ItemType] | None = None
    channels: list[str] | None = strawberry.field(
        default=None, description="Ticket channels; billing events have none, so they drop out."
    )
    since: datetime | None = strawberry.field(default=None, description="Inclusive.")
    until: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def to_domain(self) -> HistoryFilter:
        return HistoryFilter(
            types=frozenset(self.types) if self.types is not None else None,
            channels=frozenset(self.channels) if self.channels is not None else None,
            since=as_unix_seconds(self.since) if self.since is not None else None,
            until=as_unix_seconds(self.until) if self.until is not None else None,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class HistoryEdge:
    cursor: str
    node: HistoryEntry


@strawberry.type(description="A page of a history, newest first (Relay cursor connection).")
class HistoryConnection:
    edges: list[HistoryEdge]
    page_info: PageInfo
    is_complete: bool = strawberry.field(
        description="False when a source failed: its items are missing and not counted."
    )
    missing_sources: list[Source]
    warnings: list[SourceWarning]
    totals: strawberry.Private[HistoryTotals | None]  # computed when the query selects them

    @strawberry.field
    def nodes(self) -> list[HistoryEntry]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Items of the whole history that this answer could see.")
    def total_count(self) -> int:
        return self._totals().total

    @strawberry.field(description="Open or pending tickets, other than the ticket asked about.")
    def opened_ticket_count(self) -> int:
        return self._totals().opened_tickets

    def _totals(self) -> HistoryTotals:
        if self.totals is None:
            raise RuntimeError("totals are computed whenever a query selects them")
        return self.totals


class HistorySubject(Protocol):
    """What a type with a `history` field provides: whose history, and about which ticket."""

    def history_scope(self) -> Scope: ...

    def history_anchor(self) -> Ticket | None: ...


async def resolve_history(
    root: strawberry.Parent[HistorySubject],
    info: Info,
    first: Annotated[
        int | None,
        strawberry.argument(description="Items after `after`, newest first: 0–1000, default 20."),
    ] = None,
    after: str | None = None,
    last: Annotated[
        int | None,
        strawberry.argument(description="Items before `before`: 0–1000; not with `first`."),
    ] = None,
    before: str | None = None,
    filter: HistoryFilterInput | None = None,
) -> HistoryConnection:
    """A page of the history, with totals computed only when selected."""
    service = info.context.history
    scope, anchor = root.history_scope(), root.history_anchor()
    history_filter = filter.to_domain() if filter is not None else NO_FILTER
    bound_to = binding(scope, history_filter)
    request = KeysetRequest(
        first=first,
        after=decode_cursor(after, bound_to, "after"),
        last=last,
        before=decode_cursor(before, bound_to, "before"),
    )
    if _selects(info, {"totalCount", "openedTicketCount"}):
        # Counted together with the page, so the counts of every history asked in the same
        # query share one statement, whatever each history waits for afterwards.
        page, totals = await asyncio.gather(
            service.keyset_page(scope, history_filter, request, anchor),
            service.totals(scope, history_filter, anchor),
        )
    else:
        page, totals = await service.keyset_page(scope, history_filter, request, anchor), None
    edges = [
        HistoryEdge(cursor=encode_cursor(item.sort_key, bound_to), node=as_entry(item))
        for item in page.items
    ]
    return HistoryConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        is_complete=page.is_complete,
        missing_sources=[Source(w.source) for w in page.warnings],
        warnings=[
            SourceWarning(
                source=Source(w.source), code=WarningCode(w.code.value), message=w.message
            )
            for w in page.warnings
        ],
        totals=totals,
    )


def _selects(info: Info, names: set[str]) -> bool:
    """Whether one of the named fields is selected on this field's value, through fragments too.

    Read off the document itself: `info.selected_fields` would convert the whole selection below
    (every item field of a page) into Strawberry objects first.
    """
    raw = info._raw_info
    return _any_selected([node.selection_set for node in raw.field_nodes], raw.fragments, names)


def _any_selected(
    selection_sets: Sequence[SelectionSetNode | None],
    fragments: Mapping[str, FragmentDefinitionNode],
    names: set[str],
) -> bool:
    for selection_set in selection_sets:
        for selection in selection_set.selections if selection_set is not None else ():
            nested: SelectionSetNode | None
            if isinstance(selection, FieldNode):
                if selection.name.value in names:
                    return True
                nested = None
            elif isinstance(selection, InlineFragmentNode):
                nested = selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                nested = fragment.selection_set if fragment is not None else None
            else:
                nested = None
            if nested is not None and _any_selected([nested], fragments, names):
                return True
    return False
