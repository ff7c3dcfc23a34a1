"""The `connect.sid` cookie exactly as express-session writes and reads it (security.md §1).

The value is `s:` + sid + `.` + base64(HMAC-SHA256(secret, sid)) without padding, URL-encoded on
the wire. The raw Cookie header is parsed with Node's `cookie.parse` rules: the first of
duplicate names wins, quotes are stripped, and percent-decoding applies only to values with a
`%` (a malformed one keeps the raw text, as `decodeURIComponent` failing does in Node).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from urllib.parse import quote

MAX_COOKIE_VALUE = 4096
_PERCENT_SEQUENCE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_cookie_header(header: str) -> dict[str, str]:
    """Cookie pairs as Node's `cookie.parse` (0.7) returns them."""
    pairs: dict[str, str] = {}
    for part in header.split(";"):
        name, separator, value = part.partition("=")
        name = name.strip()
        if not separator or not name or name in pairs:
            continue
        value = value.strip()
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        pairs[name] = _decode_uri_component(value) if "%" in value else value
    return pairs


def _decode_uri_component(value: str) -> str:
    if _PERCENT_SEQUENCE.search(value):
        return value
    try:
        return bytes(_percent_bytes(value)).decode("utf-8")
    except UnicodeDecodeError:
        return value


def _percent_bytes(value: str) -> bytearray:
    out = bytearray()
    index = 0
    while index < len(value):
        if value[index] == "%":
            out.append(int(value[index + 1 : index + 3], 16))
            index += 3
        else:
            out += value[index].encode("utf-8")
            index += 1
    return out


def _signature(sid: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode().rstrip("=")


def sign(sid: str, secret: str) -> str:
    """The cookie value (before URL-encoding) for a session id."""
    return f"s:{sid}.{_signature(sid, secret)}"


def serialize(sid: str, secret: str) -> str:
    """The value as it goes on the wire: `encodeURIComponent` of the signed value."""
    return quote(sign(sid, secret), safe="-_.!~*'()")


def unsign(value: str, secrets_: Sequence[str]) -> str | None:
    """The session id of a signed cookie value if one of the secrets signed it, else None."""
    if not value.startswith("s:") or len(value) > MAX_COOKIE_VALUE:
        return None
    body = value[2:]
    dot = body.rfind(".")
    if dot <= 0:
        return None
    sid, signature = body[:dot], body[dot + 1 :]
    # compare_digest over every secret: the time taken does not tell which one matched.
    matched = False
    for secret in secrets_:
        matched |= hmac.compare_digest(_signature(sid, secret), signature)
    return sid if matched else None


def new_session_id() -> str:
    """A 32-character id from 24 random bytes, like uid-safe's `uid(24)`."""
    return secrets.token_urlsafe(24)
