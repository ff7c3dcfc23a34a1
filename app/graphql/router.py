"""The `/graphql` endpoint: Strawberry's FastAPI router with the gateway's HTTP rules.

- Request errors (a body that is not a JSON object, syntax, validation, limits, variables, which
  operation to run) answer 400 with `errors` and no `data`; a result whose root field failed
  keeps `"data": null` and answers 200, as the GraphQL spec and GraphQL over HTTP say.
- Bodies are decoded strictly (orjson): invalid UTF-8, JSON nested over 1,024 levels and numbers
  out of range are request errors, never a crash.
- Transport refusals (a non-JSON POST, a query over GET, a batch) answer coded JSON errors.
- GET serves GraphiQL to browsers when enabled; queries are POST-only, so a cross-site form or
  link cannot run one.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types.execution import ExecutionResult
from strawberry.types.unset import UNSET

from app.config import Settings
from app.errors import ErrorCode
from app.graphql.context import Context, get_context
from app.graphql.errors import coded, graphql_error_response
from app.graphql.schema import build_schema
from app.http_errors import code_of_status
from app.web.pages import graphiql_page


class GraphQLEndpoint(GraphQLRouter[Context, None]):
    async def run(  # type: ignore[override]
        self, request: Request, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as refusal:
            return graphql_error_response(
                refusal.status_code, refusal.reason, code_of_status(refusal.status_code)
            )

    def parse_json(self, data: str | bytes) -> Any:
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise HTTPException(400, f"Unable to parse request body as JSON: {error}") from None
        if not isinstance(decoded, dict | list):  # a list is a batch, refused as such
            raise HTTPException(400, "The request body must be a JSON object.")
        return decoded

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        if isinstance(parsed, GraphQLRequestData) and not isinstance(
            parsed.operation_name, str | None
        ):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string.")
        return parsed

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        errors = result.errors or []
        refused = result.data is None and bool(errors) and all(e.path is None for e in errors)
        if errors:
            result.errors = [coded(error) for error in errors]
        body = await super().process_result(request, result)
        if refused:
            body.pop("data", None)  # nothing was executed
        return body

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        if isinstance(response_data, dict) and "data" not in response_data:
            sub_response.status_code = _refusal_status(response_data)
        return super().create_response(response_data, sub_response)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page()


def _refusal_status(body: GraphQLHTTPResponse) -> int:
    """500 when an unexpected error stopped a request before execution, 400 otherwise."""
    errors = cast(list[dict[str, Any]], body.get("errors") or [])
    codes = {error.get("extensions", {}).get("code") for error in errors}
    return 500 if ErrorCode.INTERNAL.value in codes else 400


def create_graphql_router(settings: Settings) -> GraphQLEndpoint:
    return GraphQLEndpoint(
        build_schema(settings),
        path="/graphql",
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,
        context_getter=get_context,
    )
