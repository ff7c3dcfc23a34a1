"""Contract ids and contract profiles, derived from nothing but a seed and the id.

Contract ids are a 7-digit serial (1000001-9999999) followed by a Luhn check digit, e.g. serial
1000001 gives "10000016". The billing simulator treats an id as known exactly when its check
digit matches, so it needs no state shared with the helpdesk seeder; `contract_profile` then
yields the same contract and events in both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from app.billing.schemas import Event
from app.world.malo import make_malo
from app.world.storylines import ContractStatus, Energy, Storyline, build_timeline
from app.world.vocab import CITIES, PRODUCTS, STREETS

FIRST_SERIAL = 1_000_001
LAST_SERIAL = 9_999_999
_SERIAL_DIGITS = 7
# Event ids are serial * 100 + k, unique across contracts while a storyline has < 100 steps.
_EVENTS_PER_SERIAL = 100
_BILLING_URL = "https://powercloud.de"


@dataclass(frozen=True, slots=True)
class ContractProfile:
    """Everything the world knows about one contract; events newest first."""

    contract_id: str
    energy: Energy
    status: ContractStatus
    product_name: str
    malo_id: str
    grid_operator_name: str
    delivery_address: str
    start_date: date
    end_date: date | None
    storyline: Storyline
    events: tuple[Event, ...]


def make_contract_id(serial: int) -> str:
    """The contract id of SERIAL: the serial and its Luhn check digit."""
    if not FIRST_SERIAL <= serial <= LAST_SERIAL:
        raise ValueError(f"contract serial {serial} outside {FIRST_SERIAL}..{LAST_SERIAL}")
    digits = str(serial)
    return digits + str(_luhn_check_digit(digits))


def is_known_contract_id(contract_id: str) -> bool:
    """True when CONTRACT_ID is a serial in range with a matching check digit."""
    if len(contract_id) != _SERIAL_DIGITS + 1 or not contract_id.isascii():
        return False
    if not contract_id.isdigit():
        return False
    serial = contract_id[:-1]
    return int(serial) >= FIRST_SERIAL and _luhn_check_digit(serial) == int(contract_id[-1])


def contract_profile(seed: int, contract_id: str) -> ContractProfile:
    """The contract CONTRACT_ID of the world SEED: a pure function of its arguments."""
    if not is_known_contract_id(contract_id):
        raise ValueError(f"{contract_id!r} is not a contract id of the world")
    rng = random.Random(f"{seed}:{contract_id}")
    energy: Energy = "electricity" if rng.random() < 0.75 else "gas"
    city = rng.choice(CITIES)
    street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
    product_name = rng.choice(PRODUCTS[energy])
    malo_id = make_malo(rng)
    timeline = build_timeline(rng, energy)
    first_event_id = int(contract_id[:-1]) * _EVENTS_PER_SERIAL + 1
    events = [
        Event(
            id=event_id,
            kind=step.kind,
            subject=step.subject,
            counterpartRole=step.role,
            occurredAt=step.at,
            url=_event_url(step.kind, event_id),
        )
        for event_id, step in enumerate(timeline.steps, start=first_event_id)
    ]
    return ContractProfile(
        contract_id=contract_id,
        energy=energy,
        status=timeline.status,
        product_name=product_name,
        malo_id=malo_id,
        grid_operator_name=city.electricity_grid if energy == "electricity" else city.gas_grid,
        delivery_address=f"{street}, {city.postcode} {city.name}",
        start_date=timeline.start_date,
        end_date=timeline.end_date,
        storyline=timeline.storyline,
        events=tuple(sorted(events, key=newest_first)),
    )


def newest_first(event: Event) -> tuple[int, int, int]:
    """Sort key of design §6 among billing events: time, then grid messages, then id (all desc)."""
    return (-event.occurred_at, 0 if event.kind == "gridMessage" else 1, -event.id)


def _event_url(kind: str, event_id: int) -> str:
    collection = "gridMessages" if kind == "gridMessage" else "deliveries"
    return f"{_BILLING_URL}/{collection}/{event_id}"


def _luhn_check_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10
