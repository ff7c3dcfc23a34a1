"""Every SQL statement the history engine runs: each one serves a whole loader batch."""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db import prepared
from app.db.prepared import Row
from app.db.tables import access_log, contracts, customers, subchannels, tickets
from app.history.model import (
    OPEN_STATUSES,
    TYPE_RANK,
    Contract,
    Customer,
    HistoryFilter,
    ItemType,
    Scope,
    ScopeCounts,
    SortKey,
    Ticket,
    TicketWindow,
)

_TICKET_COLUMNS = (
    tickets.c.id,
    tickets.c.channel,
    subchannels.c.key.label("sub_channel"),
    tickets.c.status,
    tickets.c.priority,
    tickets.c.direction,
    tickets.c.subject,
    tickets.c.from_name,
    tickets.c.from_addr,
    tickets.c.external_url,
    tickets.c.contract_id,
    tickets.c.customer_id,
    tickets.c.created_at,
)
_TICKET_FIELDS = len(_TICKET_COLUMNS)
_TICKETS_WITH_SUBCHANNEL = tickets.outerjoin(
    subchannels, tickets.c.subchannel_id == subchannels.c.id
)
_ticket_position = sa.tuple_(tickets.c.created_at, tickets.c.id)


def _ticket(row: Row) -> Ticket:
    # The columns of _TICKET_COLUMNS are the fields of Ticket, in order.
    return Ticket._make(row[:_TICKET_FIELDS])


def _tickets_by_ids_select(count: int) -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(*_TICKET_COLUMNS)
        .select_from(_TICKETS_WITH_SUBCHANNEL)
        .where(tickets.c.id.in_([sa.bindparam(f"id{n}") for n in range(count)]))
    )


async def tickets_by_ids(engine: AsyncEngine, ids: Sequence[int]) -> dict[int, Ticket]:
    values = {f"id{n}": ticket_id for n, ticket_id in enumerate(ids)}
    rows = await prepared.fetch(engine, _tickets_by_ids_select, len(ids), values)
    return {row[0]: _ticket(row) for row in rows}


async def contracts_by_ids(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, Contract]:
    rows = await connection.execute(sa.select(contracts).where(contracts.c.id.in_(ids)))
    return {row.id: Contract(**row._mapping) for row in rows}


async def customers_by_ids(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, Customer]:
    rows = await connection.execute(sa.select(customers).where(customers.c.id.in_(ids)))
    return {row.id: Customer(**row._mapping) for row in rows}


async def contract_ids_of_customers(
    connection: AsyncConnection, customer_ids: Sequence[str]
) -> dict[str, list[str]]:
    statement = (
        sa.select(contracts.c.customer_id, contracts.c.id)
        .where(contracts.c.customer_id.in_(customer_ids))
        .order_by(contracts.c.customer_id, contracts.c.id)
    )
    found: dict[str, list[str]] = {customer_id: [] for customer_id in customer_ids}
    for customer_id, contract_id in await connection.execute(statement):
        found[customer_id].append(contract_id)
    return found


# A window's or a count's shape: what its SQL depends on besides values (see app.db.prepared).
_FilterShape = tuple[int | None, bool, bool]
_WindowShape = tuple[str, _FilterShape, bool, bool, bool, bool]
_CountShape = tuple[str, bool, _FilterShape]


def _filter_shape(history_filter: HistoryFilter) -> _FilterShape:
    channels = history_filter.channels
    return (
        len(channels) if channels is not None else None,
        history_filter.since is not None,
        history_filter.until is not None,
    )


def _in_scope(kind: str, prefix: str) -> sa.ColumnElement[bool]:
    column = {"contract": tickets.c.contract_id, "customer": tickets.c.customer_id}
    return column.get(kind, tickets.c.id) == sa.bindparam(f"{prefix}scope")


def _scope_value(scope: Scope) -> str | int:
    return int(scope.key) if scope.kind == "ticket" else scope.key


def _passing(shape: _FilterShape, prefix: str) -> list[sa.ColumnElement[bool]]:
    channels, since, until = shape
    conditions: list[sa.ColumnElement[bool]] = []
    if channels is not None:
        conditions.append(
            tickets.c.channel.in_([sa.bindparam(f"{prefix}channel{n}") for n in range(channels)])
        )
    if since:
        conditions.append(tickets.c.created_at >= sa.bindparam(f"{prefix}since"))
    if until:
        conditions.append(tickets.c.created_at < sa.bindparam(f"{prefix}until"))
    return conditions


def _filter_values(history_filter: HistoryFilter, prefix: str) -> dict[str, object]:
    values: dict[str, object] = {
        f"{prefix}channel{n}": channel
        for n, channel in enumerate(sorted(history_filter.channels or ()))
    }
    if history_filter.since is not None:
        values[f"{prefix}since"] = history_filter.since
    if history_filter.until is not None:
        values[f"{prefix}until"] = history_filter.until
    return values


def _ticket_bound(key: SortKey) -> tuple[int, int]:
    """The (created_at, id) bound equivalent to a full sort key, for tickets only.

    Tickets rank first among items of equal time, so against an event's key every ticket of that
    second is newer: an id of -1 expresses exactly that in a two-column row comparison.
    """
    created_at, rank, source_id = key
    return created_at, source_id if rank == TYPE_RANK[ItemType.TICKET] else -1


def _bound(prefix: str) -> sa.Tuple:
    return sa.tuple_(
        sa.bindparam(f"{prefix}at", type_=sa.Integer), sa.bindparam(f"{prefix}id", type_=sa.Integer)
    )


def _window_shape(window: TicketWindow) -> _WindowShape:
    return (
        window.scope.kind,
        _filter_shape(window.filter),
        window.after is not None,
        window.before is not None,
        window.oldest_first,
        bool(window.offset),
    )


def _window_values(window: TicketWindow, prefix: str) -> dict[str, object]:
    values = _filter_values(window.filter, prefix)
    values[f"{prefix}scope"] = _scope_value(window.scope)
    values[f"{prefix}limit"] = window.limit
    if window.offset:
        values[f"{prefix}offset"] = window.offset
    for side, key in (("after_", window.after), ("before_", window.before)):
        if key is not None:
            at, ticket_id = _ticket_bound(key)
            values[f"{prefix}{side}at"], values[f"{prefix}{side}id"] = at, ticket_id
    return values


def _window_select(shape: _WindowShape, prefix: str) -> sa.Select[tuple[object, ...]]:
    kind, filter_shape, after, before, oldest_first, offset = shape
    statement = (
        sa.select(*_TICKET_COLUMNS)
        .select_from(_TICKETS_WITH_SUBCHANNEL)
        .where(_in_scope(kind, prefix), *_passing(filter_shape, prefix))
    )
    if after:
        statement = statement.where(_ticket_position < _bound(f"{prefix}after_"))
    if before:
        statement = statement.where(_ticket_position > _bound(f"{prefix}before_"))
    if oldest_first:
        statement = statement.order_by(tickets.c.created_at.asc(), tickets.c.id.asc())
    else:
        statement = statement.order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
    statement = statement.limit(sa.bindparam(f"{prefix}limit", type_=sa.Integer))
    return (
        statement.offset(sa.bindparam(f"{prefix}offset", type_=sa.Integer)) if offset else statement
    )


def _windows_select(
    shapes: tuple[tuple[int, _WindowShape], ...],
) -> sa.Select[tuple[object, ...]] | sa.CompoundSelect[tuple[object, ...]]:
    """A lone page is its own select; several are a UNION ALL of subqueries, each keeping its
    own ORDER BY and LIMIT (which SQLite allows only inside a subquery)."""
    if len(shapes) == 1:
        ((n, shape),) = shapes
        return _window_select(shape, f"w{n}_").add_columns(
            sa.literal_column(str(n)).label("window_no")
        )
    return sa.union_all(
        *(
            sa.select(
                sa.literal_column(str(n)).label("window_no"),
                _window_select(shape, f"w{n}_").subquery(),
            )
            for n, shape in shapes
        )
    )


def _wanted_windows(
    windows: Sequence[TicketWindow],
) -> tuple[tuple[tuple[int, _WindowShape], ...], dict[str, object]]:
    wanted = [(n, window) for n, window in enumerate(windows) if window.filter.wants_tickets]
    shapes = tuple((n, _window_shape(window)) for n, window in wanted)
    values: dict[str, object] = {}
    for n, window in wanted:
        values |= _window_values(window, f"w{n}_")
    return shapes, values


def ticket_windows_statement(
    windows: Sequence[TicketWindow],
) -> sa.Select[tuple[object, ...]] | sa.CompoundSelect[tuple[object, ...]] | None:
    """The statement `ticket_windows` runs, with its values bound (to EXPLAIN it)."""
    shapes, values = _wanted_windows(windows)
    return _windows_select(shapes).params(values) if shapes else None


async def ticket_windows(
    engine: AsyncEngine, windows: Sequence[TicketWindow]
) -> list[list[Ticket]]:
    """The tickets of many pages in one statement: one index range scan per page."""
    found: list[list[Ticket]] = [[] for _ in windows]
    shapes, values = _wanted_windows(windows)
    if not shapes:
        return found
    for row in await prepared.fetch(engine, _windows_select, shapes, values):
        # window_no comes first in a union's rows and last in a lone select's.
        if len(shapes) == 1:
            found[row[-1]].append(_ticket(row))
        else:
            found[row[0]].append(_ticket(row[1:]))
    return found


def _count_shape(scope: Scope, history_filter: HistoryFilter) -> _CountShape:
    return scope.kind, history_filter.wants_tickets, _filter_shape(history_filter)


def _counts_select(
    shapes: tuple[_CountShape, ...],
) -> sa.Select[tuple[object, ...]] | sa.CompoundSelect[tuple[object, ...]]:
    open_statuses = [sa.literal(status) for status in sorted(OPEN_STATUSES)]
    open_flag = sa.case((tickets.c.status.in_(open_statuses), 1), else_=0)
    members = []
    for n, (kind, wants_tickets, filter_shape) in enumerate(shapes):
        passing = _passing(filter_shape, f"c{n}_")
        if not wants_tickets:
            matched: sa.ColumnElement[int] = sa.literal_column("0")
        elif passing:
            matched = sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*passing), 1), else_=0)), 0)
        else:
            matched = sa.func.count()
        members.append(
            sa.select(
                sa.literal_column(str(n)).label("key_no"),
                matched.label("tickets"),
                sa.func.coalesce(sa.func.sum(open_flag), 0).label("open_tickets"),
            ).where(_in_scope(kind, f"c{n}_"))
        )
    return members[0] if len(members) == 1 else sa.union_all(*members)


async def scope_counts(
    engine: AsyncEngine, keys: Sequence[tuple[Scope, HistoryFilter]]
) -> list[ScopeCounts]:
    """Per scope: tickets passing the filter, and open or pending tickets ignoring it."""
    shapes = tuple(_count_shape(scope, history_filter) for scope, history_filter in keys)
    values: dict[str, object] = {}
    for n, (scope, history_filter) in enumerate(keys):
        values |= _filter_values(history_filter, f"c{n}_")
        values[f"c{n}_scope"] = _scope_value(scope)
    counts = [ScopeCounts(0, 0) for _ in keys]
    for key_no, matched, open_tickets in await prepared.fetch(
        engine, _counts_select, shapes, values
    ):
        counts[key_no] = ScopeCounts(int(matched), int(open_tickets))
    return counts


def _access_log_insert(rows: int) -> sa.Insert:
    columns = ("agent_id", "ticket_id", "contract_id", "request_id", "created_at")
    return access_log.insert().values(
        [{column: sa.bindparam(f"{column}{n}") for column in columns} for n in range(rows)]
    )


async def log_reads(
    engine: AsyncEngine,
    agent_id: int,
    reads: Sequence[tuple[int | None, str | None]],
    request_id: str | None,
) -> None:
    now = int(time.time())
    values: dict[str, object] = {}
    for n, (ticket_id, contract_id) in enumerate(reads):
        values |= {
            f"agent_id{n}": agent_id,
            f"ticket_id{n}": ticket_id,
            f"contract_id{n}": contract_id,
            f"request_id{n}": request_id or "-",
            f"created_at{n}": now,
        }
    await prepared.execute(engine, _access_log_insert, len(reads), values)
