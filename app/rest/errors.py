"""How errors look over REST: an HTTP status and `{"success": false, "code", "error"}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from app.errors import HTTP_STATUS, ErrorCode, GatewayError
from app.rest.body import json_response


def error_response(code: ErrorCode, message: str, status: int | None = None) -> Response:
    return json_response(
        {"success": False, "code": code.value, "error": message},
        status=status or HTTP_STATUS[code],
    )


async def _gateway_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, GatewayError)
    return error_response(error.code, error.message)


async def _invalid_request(_request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    where = str(first["loc"][-1]) if first["loc"] else "request"
    return error_response(ErrorCode.BAD_USER_INPUT, f"{where}: {first['msg']}")


async def _http_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = ErrorCode.NOT_FOUND if error.status_code == 404 else ErrorCode.BAD_USER_INPUT
    return error_response(code, str(error.detail), error.status_code)


def internal_error_response(request_id: str) -> Response:
    """The masked answer to anything unexpected: no internals, only the request id."""
    return error_response(
        ErrorCode.INTERNAL, f"Unexpected error. Quote request id {request_id} when reporting it."
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
