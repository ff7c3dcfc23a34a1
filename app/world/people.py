"""Customers of the demo world: German names, addresses, e-mail addresses and phone numbers."""

from __future__ import annotations

import random
from typing import NamedTuple

from app.world.vocab import (
    CITIES,
    COMPANY_PATTERNS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    MOBILE_PREFIXES,
    STREETS,
)

_AREA_CODES = {city.postcode: city.area_code for city in CITIES}
_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "ş": "s", "é": "e", " ": "-"}
)


class CustomerRow(NamedTuple):
    """A row of `customers`, fields in column order."""

    id: str
    firstname: str
    lastname: str
    company: str | None
    email: str
    phone: str
    address: str

    @property
    def display_name(self) -> str:
        return f"{self.firstname} {self.lastname}"


def customer_id(rng: random.Random, index: int) -> str:
    """ERP-style customer numbers: increasing with INDEX, with irregular gaps."""
    return str(10_000_000 + index * 37 + rng.randrange(37))


def make_customer(
    rng: random.Random, index: int, delivery_address: str | None = None
) -> CustomerRow:
    """Customer number INDEX; living at DELIVERY_ADDRESS when given, else somewhere in CITIES."""
    firstname, lastname = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = None
    if rng.random() < 0.08:
        company = rng.choice(COMPANY_PATTERNS).format(first=firstname, last=lastname)
    if delivery_address is None:
        city = rng.choice(CITIES)
        street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
        address = f"{street}, {city.postcode} {city.name}"
    else:
        address = delivery_address
    return CustomerRow(
        id=customer_id(rng, index),
        firstname=firstname,
        lastname=lastname,
        company=company,
        email=_email(rng, firstname, lastname, company),
        phone=_phone(rng, address),
        address=address,
    )


def _email(rng: random.Random, firstname: str, lastname: str, company: str | None) -> str:
    if company is not None:
        return f"info@{_ascii(lastname)}-{rng.randint(1, 99)}.de"
    suffix = str(rng.randint(1, 99)) if rng.random() < 0.4 else ""
    return f"{_ascii(firstname)}.{_ascii(lastname)}{suffix}@{rng.choice(EMAIL_DOMAINS)}"


def _phone(rng: random.Random, address: str) -> str:
    if rng.random() < 0.65:
        return f"+49 {rng.choice(MOBILE_PREFIXES)} {rng.randint(1_000_000, 99_999_999)}"
    postcode = address.rsplit(", ", 1)[1][:5]
    return f"+49 {_AREA_CODES[postcode]} {rng.randint(100_000, 9_999_999)}"


def _ascii(name: str) -> str:
    return name.lower().translate(_TRANSLITERATION)
