"""Every GraphQL error carries a design §8 code; anything unexpected is masked.

The endpoint codes a result's errors as it turns the result into an HTTP answer, whatever step
produced them (parsing, validation, limits, variable coercion, operation selection, execution):

- a domain error (`GatewayError`) keeps its code and message;
- a request error (no path: syntax, validation, a limit, a variable's value, which operation to
  run) is `BAD_USER_INPUT` with graphql-core's message and locations, and so is a field's
  argument that graphql-core could not coerce (an explicit null for a variable whose default
  stood for a non-null argument);
- anything else is a bug: `INTERNAL`, with a message that names only the request id.

Only `INTERNAL` is logged at ERROR, with its traceback; the others are counted in the metrics and
logged at INFO by code and path, never with the query text or variable values.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi.responses import JSONResponse, Response
from graphql import FieldNode, GraphQLError

from app.errors import ErrorCode, GatewayError
from app.ops.metrics import GRAPHQL_ERRORS
from app.request_context import current_request_id

logger = logging.getLogger(__name__)


def graphql_error_response(
    status: int, message: str, code: ErrorCode, headers: Mapping[str, str] | None = None
) -> Response:
    """A request refused before execution: `errors` with a code, and no `data`."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]},
        status_code=status,
        headers=headers,
    )


def is_request_error(error: GraphQLError) -> bool:
    """Whether graphql-core refused the request itself (no field was being resolved)."""
    return error.path is None and (
        error.original_error is None or isinstance(error.original_error, GraphQLError)
    )


def is_argument_error(error: GraphQLError) -> bool:
    """Whether a field failed on an argument's value: graphql-core locates those at the value
    or variable, where every other field error is located at the field."""
    return (
        error.path is not None
        and isinstance(error.original_error, GraphQLError)
        and bool(error.nodes)
        and not any(isinstance(node, FieldNode) for node in error.nodes or ())
    )


def coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    request_id = current_request_id()
    if isinstance(original, GatewayError):
        code, message = original.code, original.message
    elif is_request_error(error) or is_argument_error(error):
        code, message = ErrorCode.BAD_USER_INPUT, error.message
    else:
        logger.error("unexpected error (request id %s)", request_id, exc_info=original or error)
        code = ErrorCode.INTERNAL
        message = f"Unexpected error. Quote request id {request_id} when reporting it."
    GRAPHQL_ERRORS.labels(code.value).inc()
    if code is not ErrorCode.INTERNAL:
        where = ".".join(map(str, error.path)) if error.path else "request"
        logger.info("graphql %s at %s (request id %s)", code.value, where, request_id)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code.value},
    )
