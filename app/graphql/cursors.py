"""Opaque cursors: a keyset position bound to the history (scope and filter) it came from.

A cursor is the item's sort key plus a fingerprint of its scope and filter, base64url-encoded.
It is not signed: it only positions a walk, and a forged position reads what any position may.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from app.errors import BadUserInput
from app.history.model import INT32_MAX, TYPE_RANK, HistoryFilter, Scope, SortKey

_VERSION = "h1"


def binding(scope: Scope, history_filter: HistoryFilter) -> str:
    """A short fingerprint of the history a cursor belongs to."""
    filter_text = repr(
        (
            sorted(history_filter.types) if history_filter.types is not None else None,
            sorted(history_filter.channels) if history_filter.channels is not None else None,
            history_filter.since,
            history_filter.until,
        )
    )
    digest = hashlib.blake2b(f"{scope.kind}|{scope.key}|{filter_text}".encode(), digest_size=6)
    return digest.hexdigest()


def encode_cursor(key: SortKey, bound_to: str) -> str:
    created_at, rank, source_id = key
    text = f"{_VERSION}:{bound_to}:{created_at}:{rank}:{source_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, bound_to: str, argument: str) -> SortKey | None:
    """The sort key in a cursor of this history; BAD_USER_INPUT for anything else."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        version, fingerprint, created_at, rank, source_id = text.split(":")
        key = (int(created_at), int(rank), int(source_id))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(f"`{argument}` is not a valid cursor.") from None
    if version != _VERSION or fingerprint != bound_to:
        raise BadUserInput(f"`{argument}` is a cursor of another history or filter.")
    if (
        not all(-INT32_MAX - 1 <= part <= INT32_MAX for part in key)
        or key[1] not in TYPE_RANK.values()
    ):
        raise BadUserInput(f"`{argument}` is not a valid cursor.")
    return key
