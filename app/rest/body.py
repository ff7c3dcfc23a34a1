"""JSON bodies serialised with orjson (key order kept, no per-item model validation)."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from fastapi.responses import Response

NO_STORE = {"Cache-Control": "no-store"}


def json_response(
    body: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )
