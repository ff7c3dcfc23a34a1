"""One mapping from errors to HTTP answers, in the shape of the transport that was asked.

`/graphql` answers GraphQL-shaped errors (and sends a browser without a session to the login
page); everything else answers the REST error body.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from app.errors import HTTP_STATUS, ErrorCode, GatewayError, RateLimited
from app.graphql.errors import graphql_error_response
from app.rest.errors import error_response

GRAPHQL_PATH = "/graphql"


def error_for_path(path: str, code: ErrorCode, message: str, status: int) -> Response:
    """The error body of the transport that serves this path."""
    if path == GRAPHQL_PATH:
        return graphql_error_response(status, message, code)
    return error_response(code, message, status)


def _answer(request: Request, code: ErrorCode, message: str, status: int) -> Response:
    return error_for_path(request.url.path, code, message, status)


async def _gateway_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, GatewayError)
    if (
        error.code is ErrorCode.UNAUTHENTICATED
        and request.url.path == GRAPHQL_PATH
        and request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
    ):
        return RedirectResponse(f"/login?next={GRAPHQL_PATH}", status_code=303)
    response = _answer(request, error.code, error.message, HTTP_STATUS[error.code])
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    where = str(first["loc"][-1]) if first["loc"] else "request"
    return _answer(request, ErrorCode.BAD_USER_INPUT, f"{where}: {first['msg']}", 400)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = ErrorCode.NOT_FOUND if error.status_code == 404 else ErrorCode.BAD_USER_INPUT
    return _answer(request, code, str(error.detail), error.status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
