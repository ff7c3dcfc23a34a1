"""The `/graphql` endpoint: Strawberry's FastAPI router with the gateway's HTTP rules.

- Request errors (syntax, validation, limits) answer 400 with `errors` and no `data`.
- Transport refusals (a non-JSON POST, a query over GET, a batch) answer coded JSON errors.
- GET serves GraphiQL to browsers when enabled; queries are POST-only, so a cross-site form or
  link cannot run one.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types.execution import ExecutionResult
from strawberry.types.unset import UNSET

from app.config import Settings
from app.errors import ErrorCode
from app.graphql.context import Context, get_context
from app.graphql.errors import coded, graphql_error_response
from app.graphql.schema import build_schema
from app.web.pages import graphiql_page


class GraphQLEndpoint(GraphQLRouter[Context, None]):
    async def run(  # type: ignore[override]
        self, request: Request, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as refusal:
            code = ErrorCode.NOT_FOUND if refusal.status_code == 404 else ErrorCode.BAD_USER_INPUT
            return graphql_error_response(refusal.status_code, refusal.reason, code)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
        body = await super().process_result(request, result)
        if result.data is None:
            body.pop("data", None)  # a request error: nothing was executed
        return body

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        if isinstance(response_data, dict) and "data" not in response_data:
            sub_response.status_code = 400
        return super().create_response(response_data, sub_response)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page()


def create_graphql_router(settings: Settings) -> GraphQLEndpoint:
    return GraphQLEndpoint(
        build_schema(settings),
        path="/graphql",
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,
        context_getter=get_context,
    )
