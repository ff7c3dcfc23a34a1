"""The demo world as a stream of households: a customer, their contracts and their tickets.

Each customer draws from its own `random.Random(f"{seed}:customer:{index}")`, contracts take
consecutive serials and tickets consecutive ids, so the first N households are the same whatever
the total, and the same (seed, customers) always yields the same world.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from app.world.contracts import FIRST_SERIAL, ContractProfile, contract_profile, make_contract_id
from app.world.people import CustomerRow, make_customer
from app.world.tickets import TicketRow, customer_tickets, unknown_sender_ticket

_CONTRACT_COUNTS = (0, 1, 2, 3)
_CONTRACT_COUNT_WEIGHTS = (10, 60, 22, 8)
_UNKNOWN_SENDER_SHARE = 0.06


class ContractRow(NamedTuple):
    """A row of `contracts`, fields in column order."""

    id: str
    customer_id: str
    energy: str
    status: str
    product_name: str
    malo_id: str
    grid_operator_name: str
    delivery_address: str
    start_date: date
    end_date: date | None


@dataclass(frozen=True, slots=True)
class Household:
    """One customer with their contracts and tickets; unknown senders' tickets ride along."""

    customer: CustomerRow
    contracts: tuple[ContractRow, ...]
    tickets: tuple[TicketRow, ...]


def households(seed: int, customers: int) -> Iterator[Household]:
    """CUSTOMERS households of the world SEED.

    The first one always has a contract, a ticket about it, a ticket about the customer alone
    and an unknown sender's ticket, so every kind of ticket exists in any world.
    """
    next_serial = FIRST_SERIAL
    next_ticket_id = 1
    for index in range(customers):
        rng = random.Random(f"{seed}:customer:{index}")
        count = rng.choices(_CONTRACT_COUNTS, _CONTRACT_COUNT_WEIGHTS)[0]
        if index == 0:
            count = max(count, 1)
        profiles = [
            contract_profile(seed, make_contract_id(serial))
            for serial in range(next_serial, next_serial + count)
        ]
        next_serial += count
        home = next(
            (p.delivery_address for p in profiles if p.status in ("active", "waiting")), None
        )
        customer = make_customer(rng, index, home)
        drafts = customer_tickets(rng, customer, profiles, cover_every_scope=index == 0)
        if index == 0 or rng.random() < _UNKNOWN_SENDER_SHARE:
            drafts.append(unknown_sender_ticket(rng))
        tickets = tuple(
            draft._replace(id=ticket_id)
            for ticket_id, draft in enumerate(drafts, start=next_ticket_id)
        )
        next_ticket_id += len(tickets)
        contracts = tuple(_contract_row(customer.id, profile) for profile in profiles)
        yield Household(customer, contracts, tickets)


def _contract_row(customer_id: str, profile: ContractProfile) -> ContractRow:
    return ContractRow(
        id=profile.contract_id,
        customer_id=customer_id,
        energy=profile.energy,
        status=profile.status,
        product_name=profile.product_name,
        malo_id=profile.malo_id,
        grid_operator_name=profile.grid_operator_name,
        delivery_address=profile.delivery_address,
        start_date=profile.start_date,
        end_date=profile.end_date,
    )
