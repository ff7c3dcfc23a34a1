"""Property tests of the cursor decoder: any text is a position of this history or a clean
BAD_USER_INPUT, never anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import BadUserInput
from app.graphql.cursors import binding, decode_cursor, encode_cursor
from app.history.model import NO_FILTER, HistoryFilter, ItemType, Scope

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
KEYS = st.tuples(INT32, st.sampled_from([0, 1, 2]), INT32)
HERE = binding(Scope("contract", "10000016"), NO_FILTER)


@given(key=KEYS)
def test_every_key_round_trips(key: tuple[int, int, int]) -> None:
    assert decode_cursor(encode_cursor(key, HERE), HERE, "after") == key


@given(text=st.text(max_size=200))
def test_any_text_decodes_or_is_refused_cleanly(text: str) -> None:
    outcome: tuple[int, int, int] | str | None
    try:
        outcome = decode_cursor(text, HERE, "after")
    except BadUserInput as refusal:
        outcome = refusal.message

    if isinstance(outcome, str):
        assert outcome.startswith("`after` is")
    else:
        assert outcome is not None
        assert outcome[1] in (0, 1, 2)


@given(key=KEYS)
def test_a_cursor_of_another_history_or_filter_is_refused(key: tuple[int, int, int]) -> None:
    elsewhere = [
        binding(Scope("contract", "10000024"), NO_FILTER),
        binding(Scope("customer", "10000016"), NO_FILTER),
        binding(Scope("contract", "10000016"), HistoryFilter(types=frozenset({ItemType.TICKET}))),
    ]
    for other in elsewhere:
        with pytest.raises(BadUserInput, match="another history or filter"):
            decode_cursor(encode_cursor(key, other), HERE, "before")
