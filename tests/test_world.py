"""The demo world: MaLo-IDs, the contract-id scheme, and contract profiles with their storylines."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest

from app.world.contracts import (
    FIRST_SERIAL,
    LAST_SERIAL,
    ContractProfile,
    contract_profile,
    is_known_contract_id,
    make_contract_id,
)
from app.world.dates import (
    LFW24_START,
    WORLD_END,
    WORLD_END_TS,
    WORLD_START_TS,
    add_working_days,
    day_of,
    midnight,
)
from app.world.malo import is_valid_malo, make_malo, malo_check_digit
from app.world.vocab import CITIES, PRODUCTS

SEED = 42
SERIALS = range(FIRST_SERIAL, FIRST_SERIAL + 1500)

STORY_PATTERNS = {
    "supplierChange": (
        r"(cancellationSent cancellationRejected )?cancellationSent handoverDateConfirmed "
        r"deliveryStartRequested (existingAssignmentInfo )?deliveryStartConfirmed"
        r"( deliveryStart( terminationRequestReceived assignmentEnded deliveryEnd)?)?"
    ),
    "moveOut": (
        r"deliveryStartRequested (existingAssignmentInfo )?deliveryStartConfirmed deliveryStart "
        r"deliveryEndRequested deliveryEndConfirmed deliveryEnd"
    ),
    "rejection": (
        r"deliveryStartRequested deliveryStartRejected (processCancelled|deliveryStartRequested "
        r"(existingAssignmentInfo )?deliveryStartConfirmed deliveryStart)"
    ),
}


@pytest.fixture(scope="module")
def profiles() -> list[ContractProfile]:
    return [contract_profile(SEED, make_contract_id(serial)) for serial in SERIALS]


def chronological_subjects(profile: ContractProfile) -> list[str]:
    return [event.subject for event in reversed(profile.events)]


def occurred(profile: ContractProfile, subject: str) -> list[int]:
    """Times of SUBJECT's events, oldest first."""
    return [e.occurred_at for e in reversed(profile.events) if e.subject == subject]


@pytest.mark.parametrize(
    "malo_id", ["41373559241", "51234567895", "50987654321", "62345098710", "73019283743"]
)
def test_documented_malo_ids_are_valid(malo_id: str) -> None:
    assert is_valid_malo(malo_id)


def test_malo_check_digit_follows_the_documented_rule() -> None:
    # 4+3+3+5+2 = 17 at odd positions, 2 * (1+7+5+9+4) = 52 at even ones: 69, so 1.
    assert malo_check_digit("4137355924") == 1


@pytest.mark.parametrize(
    "malo_id",
    [
        "41373559242",  # wrong check digit
        "4137355924",  # too short
        "413735592411",  # too long
        "01373559241",  # no issuer
        "4137355924x",
        "４1373559241",  # a full-width digit is not an ASCII digit
    ],
)
def test_malformed_malo_ids_are_invalid(malo_id: str) -> None:
    assert not is_valid_malo(malo_id)


def test_generated_malo_ids_are_valid_and_bdew_issued(profiles: list[ContractProfile]) -> None:
    rng = random.Random(1)
    generated = [make_malo(rng) for _ in range(2000)] + [p.malo_id for p in profiles]
    assert all(is_valid_malo(malo_id) for malo_id in generated)
    assert {malo_id[0] for malo_id in generated} == set("456789")


def test_contract_ids_are_serial_plus_luhn_digit() -> None:
    assert make_contract_id(FIRST_SERIAL) == "10000016"
    assert make_contract_id(1_000_002) == "10000024"
    assert make_contract_id(LAST_SERIAL) == "99999997"
    assert all(is_known_contract_id(make_contract_id(serial)) for serial in SERIALS)


@pytest.mark.parametrize("serial", [0, FIRST_SERIAL - 1, LAST_SERIAL + 1])
def test_serials_out_of_range_are_refused(serial: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        make_contract_id(serial)


def test_every_single_digit_error_makes_an_unknown_id() -> None:
    contract_id = make_contract_id(1_234_567)
    for position in range(len(contract_id)):
        for digit in "0123456789":
            if digit != contract_id[position]:
                typo = contract_id[:position] + digit + contract_id[position + 1 :]
                assert not is_known_contract_id(typo), typo


@pytest.mark.parametrize(
    "contract_id", ["", "1000001", "100000166", "00000000", "1000001x", "１0000016", "C-746839"]
)
def test_strangers_are_unknown(contract_id: str) -> None:
    assert not is_known_contract_id(contract_id)


def test_profiles_of_unknown_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="not a contract id"):
        contract_profile(SEED, "10000017")


def test_profiles_are_pure_functions_of_seed_and_id(profiles: list[ContractProfile]) -> None:
    contract_id = make_contract_id(1_000_777)
    assert contract_profile(SEED, contract_id) == contract_profile(SEED, contract_id)
    others = [contract_profile(SEED + 1, make_contract_id(serial)) for serial in SERIALS[:50]]
    assert sum(a != b for a, b in zip(profiles[:50], others, strict=True)) == 50


def test_profile_fields_lie_in_their_ranges(profiles: list[ContractProfile]) -> None:
    for profile in profiles:
        assert profile.energy in ("electricity", "gas")
        assert profile.status in ("active", "waiting", "terminated", "cancelled")
        assert profile.product_name in PRODUCTS[profile.energy]
        grids = {
            c.electricity_grid if profile.energy == "electricity" else c.gas_grid for c in CITIES
        }
        assert profile.grid_operator_name in grids
        assert re.fullmatch(r".+ \d+, \d{5} .+", profile.delivery_address)
        assert 3 <= len(profile.events) <= 15
        assert all(WORLD_START_TS <= e.occurred_at < WORLD_END_TS for e in profile.events)
    kinds = {(p.storyline, p.status) for p in profiles}
    assert kinds == {
        ("supplierChange", "active"),
        ("supplierChange", "waiting"),
        ("supplierChange", "terminated"),
        ("moveOut", "terminated"),
        ("rejection", "active"),
        ("rejection", "cancelled"),
    }


def test_events_are_newest_first_with_ids_unique_across_contracts(
    profiles: list[ContractProfile],
) -> None:
    seen: set[int] = set()
    for serial, profile in zip(SERIALS, profiles, strict=True):
        times = [event.occurred_at for event in profile.events]
        assert times == sorted(times, reverse=True)
        ids = [event.id for event in profile.events]
        assert sorted(ids) == list(range(serial * 100 + 1, serial * 100 + len(ids) + 1))
        assert seen.isdisjoint(ids)
        seen.update(ids)


def test_events_speak_the_wire_vocabulary(profiles: list[ContractProfile]) -> None:
    for profile in profiles:
        for event in profile.events:
            if event.kind == "delivery":
                assert event.subject in ("deliveryStart", "deliveryEnd")
                assert event.counterpart_role is None
                assert event.occurred_at % 86_400 == 0
                assert event.url == f"https://powercloud.de/deliveries/{event.id}"
            else:
                assert event.counterpart_role in ("gridOperator", "previousSupplier")
                assert event.url == f"https://powercloud.de/gridMessages/{event.id}"


def test_storylines_unfold_in_order_and_match_status_and_dates(
    profiles: list[ContractProfile],
) -> None:
    for profile in profiles:
        subjects = " ".join(chronological_subjects(profile))
        assert re.fullmatch(STORY_PATTERNS[profile.storyline], subjects), subjects
        starts, ends = occurred(profile, "deliveryStart"), occurred(profile, "deliveryEnd")
        if profile.status in ("active", "terminated"):
            assert starts == [midnight(profile.start_date)]
        else:
            assert starts == []
        if profile.status == "waiting":
            assert profile.start_date > WORLD_END
        assert ends == ([midnight(profile.end_date)] if profile.end_date else [])
        assert (profile.status == "terminated") == (profile.end_date is not None)


def test_lfw24_answers_electricity_switches_within_a_working_day(
    profiles: list[ContractProfile],
) -> None:
    fast = slow = 0
    for profile in profiles:
        if profile.storyline != "supplierChange":
            continue
        requested = day_of(occurred(profile, "deliveryStartRequested")[-1])
        confirmed = day_of(occurred(profile, "deliveryStartConfirmed")[-1])
        cancelled = day_of(occurred(profile, "cancellationSent")[-1])
        if profile.energy == "electricity" and cancelled >= LFW24_START:
            fast += 1
            assert confirmed <= add_working_days(requested, 1)
        else:
            slow += 1
            assert 20 <= (confirmed - requested).days <= 24
            assert profile.start_date - cancelled == timedelta(days=40)
    assert fast > 20
    assert slow > 20


def test_working_days_skip_weekends() -> None:
    friday = date(2025, 6, 6)
    assert add_working_days(friday, 0) == friday
    assert add_working_days(friday, 1) == date(2025, 6, 9)
    assert add_working_days(date(2025, 6, 7), 0) == date(2025, 6, 9)
    assert add_working_days(friday, 5) == date(2025, 6, 13)
