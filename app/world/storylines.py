"""Market-communication storylines of a contract (domain.md §9, §10c), as timed steps.

Three storylines: a supplier change (possibly ending later with a switch to a competitor), a
move-in that ends with a move-out, and a registration the grid operator rejects. Electricity
processes that start on or after LFW24_START answer within a working day; gas and older
electricity processes keep the GPKE/GeLi Gas timing (D-40, D-39, D-30, D-8, D).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, NamedTuple

from app.billing.schemas import CounterpartRole, EventKind
from app.world.dates import (
    LFW24_START,
    WORLD_END,
    WORLD_START,
    add_working_days,
    midnight,
    office_time,
    random_day,
)

Energy = Literal["electricity", "gas"]
ContractStatus = Literal["active", "waiting", "terminated", "cancelled"]
Storyline = Literal["supplierChange", "moveOut", "rejection"]

STORYLINES: tuple[Storyline, ...] = ("supplierChange", "moveOut", "rejection")
_STORYLINE_WEIGHTS = (70, 15, 15)
_EARLIEST = WORLD_START + timedelta(days=15)


class Step(NamedTuple):
    """One billing event before it gets an id: when, what, and with whom."""

    at: int
    kind: EventKind
    subject: str
    role: CounterpartRole | None


@dataclass(frozen=True, slots=True)
class Timeline:
    """A contract's storyline: its outcome and its steps, oldest first."""

    storyline: Storyline
    status: ContractStatus
    start_date: date
    end_date: date | None
    steps: tuple[Step, ...]


class _Steps:
    """Collects steps in order; messages on the same day never go back in time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.steps: list[Step] = []

    def message(self, day: date, subject: str, role: CounterpartRole) -> None:
        at = office_time(self.rng, day)
        if self.steps and at <= self.steps[-1].at:
            at = self.steps[-1].at + self.rng.randint(60, 3600)
        self.steps.append(Step(at, "gridMessage", subject, role))

    def delivery(self, day: date, subject: str) -> None:
        self.steps.append(Step(midnight(day), "delivery", subject, None))


def build_timeline(rng: random.Random, energy: Energy) -> Timeline:
    """Pick a storyline and play it out inside the world's bounds."""
    storyline = rng.choices(STORYLINES, _STORYLINE_WEIGHTS)[0]
    steps = _Steps(rng)
    if storyline == "supplierChange":
        return _supplier_change(rng, steps, energy)
    if storyline == "moveOut":
        return _move_in_then_out(rng, steps, energy)
    return _rejection(rng, steps, energy)


def _supplier_change(rng: random.Random, steps: _Steps, energy: Energy) -> Timeline:
    roll = rng.random()
    if roll < 0.62:
        start = _switch_in(rng, steps, energy, _working_day(rng, _EARLIEST, WORLD_END - _days(60)))
        return Timeline("supplierChange", "active", start, None, tuple(steps.steps))
    if roll < 0.70:
        start = _switch_in_after_world_end(rng, steps, energy)
        return Timeline("supplierChange", "waiting", start, None, tuple(steps.steps))
    start = _switch_in(rng, steps, energy, _working_day(rng, _EARLIEST, WORLD_END - _days(200)))
    end = _switch_away(
        rng, steps, energy, _working_day(rng, start + _days(60), WORLD_END - _days(30))
    )
    return Timeline("supplierChange", "terminated", start, end, tuple(steps.steps))


def _switch_in_after_world_end(rng: random.Random, steps: _Steps, energy: Energy) -> date:
    """A switch confirmed before the world ends, with delivery starting after it."""
    if energy == "electricity":
        process = _working_day(rng, WORLD_END - _days(14), WORLD_END - _days(8))
        start = random_day(rng, WORLD_END + _days(1), WORLD_END + _days(30))
        return _switch_in(rng, steps, energy, process, start=start)
    process = _working_day(rng, WORLD_END - _days(39), WORLD_END - _days(37))
    return _switch_in(rng, steps, energy, process)


def _switch_in(
    rng: random.Random, steps: _Steps, energy: Energy, process: date, start: date | None = None
) -> date:
    if rng.random() < 0.15:
        first = add_working_days(process - _days(rng.randint(6, 10)), 0)
        steps.message(first, "cancellationSent", "previousSupplier")
        rejected = add_working_days(first, rng.randint(1, 2))
        steps.message(rejected, "cancellationRejected", "previousSupplier")
    steps.message(process, "cancellationSent", "previousSupplier")
    if _lfw24(energy, process):
        handover = add_working_days(process, 1)
        requested = add_working_days(handover, rng.randint(0, 1))
        confirmed = add_working_days(requested, rng.randint(0, 1))
        start = start or confirmed + _days(rng.randint(1, 14))
    else:  # GeLi Gas and pre-LFW24 GPKE: D-40, D-39, D-30, D-8, D on working days.
        handover = add_working_days(process, 1)
        requested = add_working_days(process + _days(10), 0)
        confirmed = add_working_days(process + _days(32), 0)
        start = process + _days(40)
    steps.message(handover, "handoverDateConfirmed", "previousSupplier")
    steps.message(requested, "deliveryStartRequested", "gridOperator")
    if rng.random() < 0.3:
        steps.message(requested, "existingAssignmentInfo", "gridOperator")
    steps.message(confirmed, "deliveryStartConfirmed", "gridOperator")
    if start < WORLD_END:
        steps.delivery(start, "deliveryStart")
    return start


def _switch_away(rng: random.Random, steps: _Steps, energy: Energy, process: date) -> date:
    """A competitor takes the customer over: the grid operator ends our assignment."""
    steps.message(process, "terminationRequestReceived", "gridOperator")
    if _lfw24(energy, process):
        ended = add_working_days(process, rng.randint(0, 1))
        end = ended + _days(1)
    else:
        ended = process + _days(rng.randint(2, 5))
        end = process + _days(rng.randint(10, 21))
    steps.message(ended, "assignmentEnded", "gridOperator")
    steps.delivery(end, "deliveryEnd")
    return end


def _move_in_then_out(rng: random.Random, steps: _Steps, energy: Energy) -> Timeline:
    start = _move_in(rng, steps, energy, _working_day(rng, _EARLIEST, WORLD_END - _days(200)))
    process = _working_day(rng, start + _days(60), WORLD_END - _days(30))
    steps.message(process, "deliveryEndRequested", "gridOperator")
    confirmed = add_working_days(process, _answer_days(rng, energy, process))
    steps.message(confirmed, "deliveryEndConfirmed", "gridOperator")
    end = confirmed + _days(rng.randint(1, 14))
    steps.delivery(end, "deliveryEnd")
    return Timeline("moveOut", "terminated", start, end, tuple(steps.steps))


def _move_in(rng: random.Random, steps: _Steps, energy: Energy, requested: date) -> date:
    steps.message(requested, "deliveryStartRequested", "gridOperator")
    if rng.random() < 0.25:
        steps.message(requested, "existingAssignmentInfo", "gridOperator")
    confirmed = add_working_days(requested, _answer_days(rng, energy, requested))
    steps.message(confirmed, "deliveryStartConfirmed", "gridOperator")
    start = confirmed + _days(rng.randint(1, 14))
    steps.delivery(start, "deliveryStart")
    return start


def _rejection(rng: random.Random, steps: _Steps, energy: Energy) -> Timeline:
    requested = _working_day(rng, _EARLIEST, WORLD_END - _days(60))
    steps.message(requested, "deliveryStartRequested", "gridOperator")
    rejected = add_working_days(requested, _answer_days(rng, energy, requested))
    steps.message(rejected, "deliveryStartRejected", "gridOperator")
    if rng.random() < 0.5:
        retry = add_working_days(rejected, rng.randint(3, 10))
        start = _move_in(rng, steps, energy, retry)
        return Timeline("rejection", "active", start, None, tuple(steps.steps))
    cancelled = add_working_days(rejected, rng.randint(5, 15))
    steps.message(cancelled, "processCancelled", "gridOperator")
    return Timeline("rejection", "cancelled", requested + _days(14), None, tuple(steps.steps))


def _answer_days(rng: random.Random, energy: Energy, asked: date) -> int:
    """Working days until the grid operator answers a registration."""
    return rng.randint(0, 1) if _lfw24(energy, asked) else rng.randint(2, 5)


def _lfw24(energy: Energy, day: date) -> bool:
    return energy == "electricity" and day >= LFW24_START


def _working_day(rng: random.Random, first: date, last: date) -> date:
    return add_working_days(random_day(rng, first, last), 0)


def _days(count: int) -> timedelta:
    return timedelta(days=count)
