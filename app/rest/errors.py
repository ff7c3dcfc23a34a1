"""How errors look over REST: an HTTP status and `{"success": false, "code", "error"}`."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import Response

from app.errors import HTTP_STATUS, ErrorCode
from app.rest.body import json_response


def error_response(
    code: ErrorCode,
    message: str,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return json_response(
        {"success": False, "code": code.value, "error": message},
        status=status or HTTP_STATUS[code],
        headers=headers,
    )
