"""Marktlokations-IDs (MaLo-IDs): 11 digits, the last a check digit (domain.md §9).

The first digit names the issuer (1-3 DVGW, 4-9 BDEW). The check digit adds the digits at the
odd positions 1, 3, 5, 7, 9 to twice the digits at the even positions 2, 4, 6, 8, 10 and takes
(10 - total mod 10) mod 10. Example: 41373559241.
"""

from __future__ import annotations

import random

MALO_LENGTH = 11


def malo_check_digit(first_ten: str) -> int:
    """The check digit for the first ten digits of a MaLo-ID."""
    if len(first_ten) != MALO_LENGTH - 1 or not _is_ascii_digits(first_ten):
        raise ValueError(f"expected 10 digits, got {first_ten!r}")
    digits = [int(c) for c in first_ten]
    total = sum(digits[0::2]) + 2 * sum(digits[1::2])
    return (10 - total % 10) % 10


def is_valid_malo(malo_id: str) -> bool:
    """True for 11 digits with a known issuer digit and a matching check digit."""
    return (
        len(malo_id) == MALO_LENGTH
        and _is_ascii_digits(malo_id)
        and malo_id[0] != "0"
        and malo_check_digit(malo_id[:-1]) == int(malo_id[-1])
    )


def make_malo(rng: random.Random) -> str:
    """A random valid MaLo-ID as the BDEW issues them (first digit 4-9)."""
    first_ten = str(rng.randint(4, 9)) + "".join(str(rng.randrange(10)) for _ in range(9))
    return first_ten + str(malo_check_digit(first_ten))


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
