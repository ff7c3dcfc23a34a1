"""Property tests of the cookie format (A12) against express-session's published vectors."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from app.auth.cookies import parse_cookie_header, serialize, sign, unsign

SID = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=";,"),
    min_size=1,
    max_size=64,
)
SECRET = st.text(min_size=32, max_size=64)


def test_the_published_vectors() -> None:
    assert sign("hello", "tobiiscool") == "s:hello.DGDUkGlIkCzPz+C0B064FNgHdEjox7ch8tOBGslZ5QI"
    header = (
        "connect.sid=s%3A-6kQsKa248mL0CZmoeQhbxoerzX5jjLg.zo1K4YL%2BZvMVVHBioKmVTW1C%2BVF95C0d4co"
        "smOQ5G9w"
    )
    value = parse_cookie_header(header)["connect.sid"]
    assert unsign(value, ["newsecret"]) == "-6kQsKa248mL0CZmoeQhbxoerzX5jjLg"
    assert unsign(value, ["oldsecret"]) is None
    assert "connect.sid=" + serialize("-6kQsKa248mL0CZmoeQhbxoerzX5jjLg", "newsecret") == header


def test_node_parsing_rules() -> None:
    assert parse_cookie_header('a=1; a=2; b="x%20y"; c=%E0%A4%A; d=%zz; e') == {
        "a": "1",
        "b": "x y",
        "c": "%E0%A4%A",
        "d": "%zz",
    }


@given(sid=SID, secret=SECRET, other=SECRET)
def test_signed_cookies_round_trip_through_the_wire(sid: str, secret: str, other: str) -> None:
    header = f"other=1; connect.sid={serialize(sid, secret)}; connect.sid=later"

    value = parse_cookie_header(header)["connect.sid"]

    assert unsign(value, [other, secret]) == sid


@given(sid=SID, secret=SECRET, position=st.integers(min_value=0), byte=st.integers(0, 127))
def test_any_single_character_change_never_verifies(
    sid: str, secret: str, position: int, byte: int
) -> None:
    signed = sign(sid, secret)
    index = position % len(signed)
    mutated = signed[:index] + chr(byte) + signed[index + 1 :]
    if mutated == signed:
        return

    assert unsign(mutated, [secret]) is None
    assert (
        unsign(
            parse_cookie_header("connect.sid=" + quote(mutated, safe=""))["connect.sid"], [secret]
        )
        is None
    )
