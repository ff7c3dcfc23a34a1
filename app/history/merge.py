"""Merging tickets from SQL with billing events held in memory, in the one total order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from itertools import islice

from app.history.model import HistoryItem, SortKey


def sort_key(item: HistoryItem) -> SortKey:
    return item.sort_key


def newest_first(*streams: Iterable[HistoryItem]) -> list[HistoryItem]:
    """Items of streams that are each newest first, merged newest first."""
    return list(heapq.merge(*streams, key=sort_key, reverse=True))


def page_at_offset(
    tickets: Sequence[HistoryItem],
    tickets_start: int,
    events: Sequence[HistoryItem],
    offset: int,
    limit: int,
) -> list[HistoryItem]:
    """Items [offset, offset + limit) of the merged history.

    `tickets` are the scope's tickets from index `tickets_start` on, newest first, and `events`
    all its events, newest first. The slice is exact whenever `tickets_start` is 0 or at most
    `offset - len(events)`: at most len(events) events precede position `offset`, so every
    ticket left out sits before it, and the first ticket read tells how many events do too.
    """
    if tickets_start == 0:
        position, pending = 0, events
    elif not tickets:
        return []  # tickets_start <= offset - len(events) <= offset - 0 and no ticket after it
    else:
        first = tickets[0].sort_key
        newer_events = sum(1 for event in events if event.sort_key > first)
        position, pending = tickets_start + newer_events, events[newer_events:]
    merged = heapq.merge(tickets, pending, key=sort_key, reverse=True)
    skip = offset - position
    return list(islice(merged, skip, skip + limit))


def page_after(
    tickets: Sequence[HistoryItem],
    events: Sequence[HistoryItem],
    after: SortKey | None,
    first: int,
) -> tuple[list[HistoryItem], bool]:
    """The `first` items older than `after` (all items when None), and whether more follow.

    `tickets` already start after the key (SQL did that) and hold up to `first + 1` items.
    """
    if after is not None:
        events = [event for event in events if event.sort_key < after]
    taken = list(islice(heapq.merge(tickets, events, key=sort_key, reverse=True), first + 1))
    return taken[:first], len(taken) > first


def page_before(
    tickets_oldest_first: Sequence[HistoryItem],
    events: Sequence[HistoryItem],
    before: SortKey | None,
    last: int,
) -> tuple[list[HistoryItem], bool]:
    """The `last` items newer than `before` (the oldest items when None), newest first, and
    whether more precede them.

    `tickets_oldest_first` already start after the key, read upwards, up to `last + 1` items.
    """
    older_first = [event for event in reversed(events) if before is None or event.sort_key > before]
    taken = list(islice(heapq.merge(tickets_oldest_first, older_first, key=sort_key), last + 1))
    return taken[:last][::-1], len(taken) > last
