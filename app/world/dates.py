"""The world's calendar: its bounds, the LFW24 cut-over, working days and unix seconds.

Everything that happens in the world lies in [WORLD_START, WORLD_END); nothing reads the clock.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

WORLD_START = date(2021, 1, 1)
WORLD_END = date(2026, 11, 1)
# BNetzA BK6-22-024: electricity supplier switches within 24 hours on working days.
LFW24_START = date(2025, 6, 6)

_EPOCH = date(1970, 1, 1)
_SATURDAY = 5


def midnight(day: date) -> int:
    """Unix seconds of 00:00:00Z on DAY."""
    return (day - _EPOCH).days * 86_400


WORLD_START_TS = midnight(WORLD_START)
WORLD_END_TS = midnight(WORLD_END)


def day_of(timestamp: int) -> date:
    """The UTC day a unix timestamp falls on."""
    return datetime.fromtimestamp(timestamp, UTC).date()


def office_time(rng: random.Random, day: date) -> int:
    """A unix timestamp during office hours (07:00-19:00Z) of DAY."""
    return midnight(day) + rng.randint(7 * 3600, 19 * 3600 - 1)


def random_day(rng: random.Random, first: date, last: date) -> date:
    """A day in [FIRST, LAST], both included."""
    return first + timedelta(days=rng.randint(0, (last - first).days))


def add_working_days(day: date, count: int) -> date:
    """COUNT working days (Monday-Friday) after DAY; 0 moves a weekend day to the next Monday."""
    while day.weekday() >= _SATURDAY:
        day += timedelta(days=1)
    for _ in range(count):
        day += timedelta(days=1)
        while day.weekday() >= _SATURDAY:
            day += timedelta(days=1)
    return day
