"""Every GraphQL error carries a design §8 code; anything unexpected is masked.

The endpoint codes a result's errors as it turns the result into an HTTP answer, whatever step
produced them (parsing, validation, limits, execution).

Errors without a path are request errors (syntax, validation, limits, variables):
`BAD_USER_INPUT`. Domain errors keep their code and message. Everything else becomes
`INTERNAL` with a message that names only the request id.
"""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse, Response
from graphql import GraphQLError

from app.errors import ErrorCode, GatewayError
from app.request_context import current_request_id

logger = logging.getLogger(__name__)


def graphql_error_response(
    status: int, message: str, code: ErrorCode, headers: dict[str, str] | None = None
) -> Response:
    """A request refused before execution: `errors` with a code, and no `data`."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]},
        status_code=status,
        headers=headers,
    )


def coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        code, message = original.code, original.message
    elif original is None and not error.path:
        code, message = ErrorCode.BAD_USER_INPUT, error.message
    else:
        request_id = current_request_id()
        logger.error("unexpected error (request id %s)", request_id, exc_info=original or error)
        code = ErrorCode.INTERNAL
        message = f"Unexpected error. Quote request id {request_id} when reporting it."
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code.value},
    )
