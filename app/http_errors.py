"""One mapping from errors to HTTP answers, in the shape of the transport that was asked.

`/graphql` answers GraphQL-shaped errors (and sends a browser without a session to the login
page); everything else answers the REST error body. The exception handlers and every
middleware that answers by itself (body limit, deadline, unexpected errors) shape their
answers here.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from app.errors import HTTP_STATUS, ErrorCode, GatewayError, RateLimited
from app.graphql.errors import graphql_error_response
from app.rest.errors import error_response

GRAPHQL_PATH = "/graphql"


def error_for_path(
    path: str,
    code: ErrorCode,
    message: str,
    status: int,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error body of the transport that serves this path."""
    if path == GRAPHQL_PATH:
        return graphql_error_response(status, message, code, headers)
    return error_response(code, message, status, headers)


def internal_error_for_path(path: str, request_id: str) -> Response:
    """The masked answer to anything unexpected: no internals, only the request id."""
    message = f"Unexpected error. Quote request id {request_id} when reporting it."
    return error_for_path(path, ErrorCode.INTERNAL, message, 500)


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


_CODE_OF_STATUS = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def code_of_status(status: int) -> ErrorCode:
    """The code of a refusal that came as a bare HTTP status."""
    return _CODE_OF_STATUS.get(status, ErrorCode.BAD_USER_INPUT)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Starlette names the methods of the first route of the path; a path can have several.
        headers["Allow"] = ", ".join(_methods_of_path(request))
    return error_for_path(
        request.url.path,
        code_of_status(error.status_code),
        str(error.detail),
        error.status_code,
        headers,
    )


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _methods_of_path(request: Request) -> list[str]:
    """The methods some route of the request's path takes (asking every route, since routers
    may nest), plus HEAD wherever GET is (app.ops.head_requests answers it)."""
    methods = {
        method
        for method in _METHODS
        for route in request.app.routes
        if isinstance(route, BaseRoute)
        and route.matches({**request.scope, "method": method})[0] is Match.FULL
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
