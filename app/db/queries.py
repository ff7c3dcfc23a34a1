"""Every SQL statement the history engine runs: each one serves a whole loader batch."""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

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
_TICKETS_WITH_SUBCHANNEL = tickets.outerjoin(
    subchannels, tickets.c.subchannel_id == subchannels.c.id
)
_ticket_position = sa.tuple_(tickets.c.created_at, tickets.c.id)


def _ticket(m: sa.RowMapping) -> Ticket:
    return Ticket(
        id=m["id"],
        channel=m["channel"],
        sub_channel=m["sub_channel"],
        status=m["status"],
        priority=m["priority"],
        direction=m["direction"],
        subject=m["subject"],
        from_name=m["from_name"],
        from_addr=m["from_addr"],
        url=m["external_url"],
        contract_id=m["contract_id"],
        customer_id=m["customer_id"],
        created_at=m["created_at"],
    )


async def tickets_by_ids(connection: AsyncConnection, ids: Sequence[int]) -> dict[int, Ticket]:
    statement = (
        sa.select(*_TICKET_COLUMNS)
        .select_from(_TICKETS_WITH_SUBCHANNEL)
        .where(tickets.c.id.in_(ids))
    )
    rows = await connection.execute(statement)
    return {row.id: _ticket(row._mapping) for row in rows}


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


def _in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    if scope.kind == "contract":
        return tickets.c.contract_id == scope.key
    if scope.kind == "customer":
        return tickets.c.customer_id == scope.key
    return tickets.c.id == int(scope.key)


def _passing(history_filter: HistoryFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if history_filter.channels is not None:
        conditions.append(tickets.c.channel.in_(sorted(history_filter.channels)))
    if history_filter.since is not None:
        conditions.append(tickets.c.created_at >= history_filter.since)
    if history_filter.until is not None:
        conditions.append(tickets.c.created_at < history_filter.until)
    return conditions


def _ticket_bound(key: SortKey) -> sa.Tuple:
    """The (created_at, id) bound equivalent to a full sort key, for tickets only.

    Tickets rank first among items of equal time, so against an event's key every ticket of that
    second is newer: an id of -1 expresses exactly that in a two-column row comparison.
    """
    created_at, rank, source_id = key
    return sa.tuple_(created_at, source_id if rank == TYPE_RANK[ItemType.TICKET] else -1)


def _window_select(window: TicketWindow) -> sa.Select[tuple[object, ...]]:
    statement = (
        sa.select(*_TICKET_COLUMNS)
        .select_from(_TICKETS_WITH_SUBCHANNEL)
        .where(_in_scope(window.scope), *_passing(window.filter))
    )
    if window.after is not None:
        statement = statement.where(_ticket_position < _ticket_bound(window.after))
    if window.before is not None:
        statement = statement.where(_ticket_position > _ticket_bound(window.before))
    if window.oldest_first:
        statement = statement.order_by(tickets.c.created_at.asc(), tickets.c.id.asc())
    else:
        statement = statement.order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
    return statement.limit(window.limit).offset(window.offset or None)


def ticket_windows_statement(
    windows: Sequence[TicketWindow],
) -> sa.Select[tuple[object, ...]] | sa.CompoundSelect[tuple[object, ...]] | None:
    """One statement for the tickets of many pages (None when no page wants tickets).

    A lone page is its own select; several are a UNION ALL of subqueries, each keeping its own
    ORDER BY and LIMIT (which SQLite allows only inside a subquery).
    """
    wanted = [(n, window) for n, window in enumerate(windows) if window.filter.wants_tickets]
    if not wanted:
        return None
    if len(wanted) == 1:
        ((n, window),) = wanted
        return _window_select(window).add_columns(sa.literal_column(str(n)).label("window_no"))
    return sa.union_all(
        *(
            sa.select(
                sa.literal_column(str(n)).label("window_no"), _window_select(window).subquery()
            )
            for n, window in wanted
        )
    )


async def ticket_windows(
    connection: AsyncConnection, windows: Sequence[TicketWindow]
) -> list[list[Ticket]]:
    """The tickets of many pages in one statement: one index range scan per page."""
    found: list[list[Ticket]] = [[] for _ in windows]
    statement = ticket_windows_statement(windows)
    if statement is None:
        return found
    for row in await connection.execute(statement):
        found[row.window_no].append(_ticket(row._mapping))
    return found


async def scope_counts(
    connection: AsyncConnection, keys: Sequence[tuple[Scope, HistoryFilter]]
) -> list[ScopeCounts]:
    """Per scope: tickets passing the filter, and open or pending tickets ignoring it."""
    open_flag = sa.case((tickets.c.status.in_(sorted(OPEN_STATUSES)), 1), else_=0)
    members = []
    for n, (scope, history_filter) in enumerate(keys):
        passing = _passing(history_filter)
        if not history_filter.wants_tickets:
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
            ).where(_in_scope(scope))
        )
    statement = members[0] if len(members) == 1 else sa.union_all(*members)
    counts = [ScopeCounts(0, 0) for _ in keys]
    for row in await connection.execute(statement):
        counts[row.key_no] = ScopeCounts(int(row.tickets), int(row.open_tickets))
    return counts


async def log_reads(
    connection: AsyncConnection,
    agent_id: int,
    reads: Sequence[tuple[int | None, str | None]],
    request_id: str | None,
) -> None:
    now = int(time.time())
    await connection.execute(
        access_log.insert(),
        [
            {
                "agent_id": agent_id,
                "ticket_id": ticket_id,
                "contract_id": contract_id,
                "request_id": request_id or "-",
                "created_at": now,
            }
            for ticket_id, contract_id in reads
        ],
    )
