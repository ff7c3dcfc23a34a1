"""Helpdesk tickets of the demo world, tied to the storylines of the customer's contracts.

A move-out starts with the customer's e-mail "Umzug / Kündigung", a rejected registration is
followed by a missed call, and so on (domain.md §10c); the rest are everyday questions, most
about one contract, some about the customer in general. Tickets come out with id 0: ids are
handed out by the caller, in the order tickets are written.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import NamedTuple

from app.world.contracts import ContractProfile
from app.world.dates import WORLD_END_TS, WORLD_START_TS, midnight
from app.world.people import CustomerRow
from app.world.vocab import (
    CHANNELS,
    CUSTOMER_PORTAL,
    EMAIL_SUBJECTS,
    FACEBOOK,
    FINAL_INVOICE_SUBJECT,
    HOTLINE,
    LETTER_SUBJECTS,
    MISSED_CALL,
    MOVE_OUT_SUBJECT,
    PHONE_SUBJECTS,
    PORTAL_SUBJECTS,
    PRIORITIES,
    REJECTION_FOLLOW_UP_SUBJECT,
    STATUSES,
    SUPPLIER_SERVICE_ADDR,
    SUPPLIER_SERVICE_NAME,
    SUPPORT_MAIL,
    SWITCH_SUBJECTS,
    SYSTEM_SUBJECTS,
    UNKNOWN_SENDERS,
    WALK_IN_SUBJECTS,
    WEBSITE_CHAT,
    Subchannel,
)

_DAY = 86_400
_CHANNEL_WEIGHTS = (40, 14, 18, 5, 6, 14, 3)  # in the order of CHANNELS
_TICKET_COUNTS = range(1, 11)
_TICKET_COUNT_WEIGHTS = (22, 20, 16, 12, 9, 7, 5, 4, 3, 2)
_PRIORITY_WEIGHTS = (55, 30, 12, 3)
_DEFAULT_SUBCHANNEL = {sub.channel: sub for sub in (SUPPORT_MAIL, HOTLINE, CUSTOMER_PORTAL)}
_SERVICE_PHONE = "+49 800 5864300"


class TicketRow(NamedTuple):
    """A row of `tickets`, fields in column order."""

    id: int
    channel: str
    subchannel_id: int | None
    status: str
    priority: str
    direction: str
    subject: str | None
    from_name: str | None
    from_addr: str | None
    external_url: str | None
    contract_id: str | None
    customer_id: str | None
    created_at: int


def customer_tickets(
    rng: random.Random,
    customer: CustomerRow,
    contracts: Sequence[ContractProfile],
    *,
    cover_every_scope: bool = False,
) -> list[TicketRow]:
    """1-10 tickets of CUSTOMER, oldest first.

    With COVER_EVERY_SCOPE (which needs a contract) there is at least one ticket about a
    contract and one about the customer without a contract.
    """
    maker = _TicketMaker(rng, customer)
    tickets = [ticket for contract in contracts for ticket in maker.story(contract)]
    count = max(rng.choices(_TICKET_COUNTS, _TICKET_COUNT_WEIGHTS)[0], len(tickets))
    if cover_every_scope:
        count = max(count, len(tickets) + 2)
    for index in range(count - len(tickets)):
        if cover_every_scope and index < 2:
            about = contracts[0] if index else None
        else:
            about = rng.choice(contracts) if contracts and rng.random() < 0.7 else None
        tickets.append(maker.everyday(about, contracts))
    return sorted(tickets, key=lambda ticket: ticket.created_at)


def unknown_sender_ticket(rng: random.Random) -> TicketRow:
    """A ticket nobody could match to a customer: offers, wrong numbers, anonymous letters."""
    channel, from_name, from_addr, subject = rng.choice(UNKNOWN_SENDERS)
    at = rng.randrange(WORLD_START_TS, WORLD_END_TS)
    subchannel = _DEFAULT_SUBCHANNEL.get(channel)
    return TicketRow(
        id=0,
        channel=channel,
        subchannel_id=subchannel.id if subchannel else None,
        status=_status(rng, at),
        priority="low",
        direction="in",
        subject=subject,
        from_name=from_name,
        from_addr=from_addr,
        external_url=None,
        contract_id=None,
        customer_id=None,
        created_at=at,
    )


class _TicketMaker:
    def __init__(self, rng: random.Random, customer: CustomerRow) -> None:
        self.rng = rng
        self.customer = customer

    def story(self, contract: ContractProfile) -> list[TicketRow]:
        """The tickets a contract's storyline makes the customer write."""
        rng = self.rng
        tickets = []
        if contract.storyline == "moveOut":
            asked = _latest(contract, "deliveryEndRequested") - rng.randint(2 * _DAY, 20 * _DAY)
            tickets.append(self.make("email", "in", MOVE_OUT_SUBJECT, asked, contract, "medium"))
        elif contract.storyline == "rejection":
            rejected = _latest(contract, "deliveryStartRejected")
            called = rejected + rng.randint(3600, 3 * _DAY)
            tickets.append(self.make("phone", "in", MISSED_CALL, called, contract, "high"))
            if rng.random() < 0.4:
                wrote = called + rng.randint(3600, 5 * _DAY)
                tickets.append(
                    self.make("email", "in", REJECTION_FOLLOW_UP_SUBJECT, wrote, contract)
                )
        elif rng.random() < 0.4:
            sent = _latest(contract, "cancellationSent")
            asked = rng.randrange(sent, min(midnight(contract.start_date), WORLD_END_TS))
            tickets.append(self.make("email", "in", rng.choice(SWITCH_SUBJECTS), asked, contract))
        if contract.end_date is not None and rng.random() < 0.5:
            invoiced = midnight(contract.end_date) + rng.randint(5 * _DAY, 20 * _DAY)
            if invoiced < WORLD_END_TS:
                tickets.append(
                    self.make("system", "out", FINAL_INVOICE_SUBJECT, invoiced, contract)
                )
        return tickets

    def everyday(
        self, about: ContractProfile | None, contracts: Sequence[ContractProfile]
    ) -> TicketRow:
        """An everyday question, about one contract or about the customer in general."""
        rng = self.rng
        channel = rng.choices(CHANNELS, _CHANNEL_WEIGHTS)[0]
        direction = _direction(rng, channel)
        if about is None:
            first_contact = min((_oldest(c) for c in contracts), default=WORLD_START_TS + 60 * _DAY)
            since = max(WORLD_START_TS, first_contact - 60 * _DAY)
            at = rng.randrange(since, WORLD_END_TS)
        else:
            at = rng.randrange(_oldest(about), _last_contact(about))
        return self.make(channel, direction, self._subject(channel, direction), at, about)

    def make(
        self,
        channel: str,
        direction: str,
        subject: str | None,
        at: int,
        contract: ContractProfile | None,
        priority: str | None = None,
    ) -> TicketRow:
        rng = self.rng
        subchannel = _subchannel(rng, channel)
        from_name, from_addr = self._sender(channel, direction, subchannel)
        return TicketRow(
            id=0,
            channel=channel,
            subchannel_id=subchannel.id if subchannel else None,
            status=_status(rng, at),
            priority=priority or rng.choices(PRIORITIES, _PRIORITY_WEIGHTS)[0],
            direction=direction,
            subject=subject,
            from_name=from_name,
            from_addr=from_addr,
            external_url=(
                f"https://facebook.com/message/{rng.randint(100_000, 9_999_999)}"
                if subchannel is FACEBOOK
                else None
            ),
            contract_id=contract.contract_id if contract else None,
            customer_id=self.customer.id,
            created_at=at,
        )

    def _subject(self, channel: str, direction: str) -> str | None:
        rng = self.rng
        if channel == "chat":
            return None
        if channel == "email":
            if direction == "out":
                return f"AW: {rng.choice(EMAIL_SUBJECTS)}"
            # Enneo shows the sender's name as the subject of some e-mail tickets.
            return self._name() if rng.random() < 0.15 else rng.choice(EMAIL_SUBJECTS)
        if channel == "phone":
            if direction == "out":
                return "Rückruf"
            return MISSED_CALL if rng.random() < 0.4 else rng.choice(PHONE_SUBJECTS)
        pool = {
            "portal": PORTAL_SUBJECTS,
            "letter": LETTER_SUBJECTS,
            "system": SYSTEM_SUBJECTS,
            "walkIn": WALK_IN_SUBJECTS,
        }[channel]
        return rng.choice(pool)

    def _sender(
        self, channel: str, direction: str, subchannel: Subchannel | None
    ) -> tuple[str | None, str | None]:
        if channel == "system":
            return "System", None
        if direction == "out":
            return (
                SUPPLIER_SERVICE_NAME,
                _SERVICE_PHONE if channel == "phone" else SUPPLIER_SERVICE_ADDR,
            )
        if channel == "phone":
            return self._name(), self.customer.phone
        if channel in ("letter", "walkIn") or subchannel is FACEBOOK:
            return self._name(), None
        return self._name(), self.customer.email

    def _name(self) -> str:
        return self.customer.company or self.customer.display_name


def _direction(rng: random.Random, channel: str) -> str:
    if channel == "system":
        return rng.choice(("out", "internal"))
    outbound_share = {"email": 0.08, "phone": 0.15}.get(channel, 0.0)
    return "out" if rng.random() < outbound_share else "in"


def _subchannel(rng: random.Random, channel: str) -> Subchannel | None:
    if channel == "chat":
        return FACEBOOK if rng.random() < 0.3 else WEBSITE_CHAT
    return _DEFAULT_SUBCHANNEL.get(channel)


def _status(rng: random.Random, at: int) -> str:
    """Recent tickets are often still open; old ones are almost always closed."""
    if WORLD_END_TS - at < 21 * _DAY:
        return rng.choices(STATUSES, (40, 25, 35))[0]
    return rng.choices(STATUSES, (4, 2, 94))[0]


def _latest(contract: ContractProfile, subject: str) -> int:
    return next(event.occurred_at for event in contract.events if event.subject == subject)


def _oldest(contract: ContractProfile) -> int:
    return contract.events[-1].occurred_at


def _last_contact(contract: ContractProfile) -> int:
    """Until when a customer still writes about CONTRACT."""
    if contract.status == "cancelled":
        return min(WORLD_END_TS, contract.events[0].occurred_at + 30 * _DAY)
    if contract.end_date is not None:
        return min(WORLD_END_TS, midnight(contract.end_date) + 60 * _DAY)
    return WORLD_END_TS
