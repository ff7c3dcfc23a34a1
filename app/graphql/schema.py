"""The GraphQL schema: root fields, the history item types and the limits it is served with.

`schema` is the export target of `schema.graphql`
(`strawberry export-schema app.graphql.schema:schema`), built on first use; the app serves
`build_schema(settings)`, the same types with the configured limits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.config import Settings
from app.errors import BadUserInput, NotFound
from app.graphql.compiled import compiling_executor
from app.graphql.context import Info
from app.graphql.history_types import DeliveryEvent, GridMessageEvent, TicketEvent
from app.graphql.metrics import OperationMetrics
from app.graphql.request_checks import DOCUMENT_CACHE_SIZE, DocumentCache, RequestChecks
from app.graphql.types import ContractNode, TicketNode

MAX_TICKETS_PER_QUERY = 100


@strawberry.type(name="Agent", description="Who is asking.")
class AgentNode:
    id: int
    email: str
    name: str


@strawberry.type
class Query:
    @strawberry.field(description="The agent this request is authenticated as.")
    def viewer(self, info: Info) -> AgentNode:
        agent = info.context.history.viewer
        return AgentNode(id=agent.id, email=agent.email, name=agent.name)

    @strawberry.field(description="A ticket; null with a NOT_FOUND error when there is none.")
    async def ticket(self, info: Info, id: int) -> TicketNode | None:
        return TicketNode.of(await info.context.history.ticket(id))

    @strawberry.field(
        description=f"Up to {MAX_TICKETS_PER_QUERY} tickets in the order asked; null where unknown."
    )
    async def tickets(self, info: Info, ids: list[int]) -> list[TicketNode | None]:
        if len(ids) > MAX_TICKETS_PER_QUERY:
            raise BadUserInput(f"At most {MAX_TICKETS_PER_QUERY} ids per query.")
        found = await info.context.history.tickets(ids)
        return [TicketNode.of(ticket) if ticket is not None else None for ticket in found]

    @strawberry.field(description="A contract; null with a NOT_FOUND error when there is none.")
    async def contract(self, info: Info, id: strawberry.ID) -> ContractNode | None:
        found = await info.context.history.find_contract(str(id))
        if found is None:
            raise NotFound(f"Contract {id} does not exist.")
        return ContractNode.of(found)


HISTORY_ITEM_TYPES = [TicketEvent, GridMessageEvent, DeliveryEvent]


@functools.cache
def sdl_schema() -> strawberry.Schema:
    """The schema's types without the serving limits: what `schema.graphql` records."""
    return strawberry.Schema(query=Query, types=HISTORY_ITEM_TYPES)


def __getattr__(name: str) -> strawberry.Schema:
    # `schema` is the export target (`strawberry export-schema app.graphql.schema:schema`),
    # built on first use rather than whenever the app imports this module.
    if name == "schema":
        return sdl_schema()
    raise AttributeError(name)


class ServingSchema(strawberry.Schema):
    """The served schema: errors are coded and logged where results become answers
    (`app.graphql.errors`), so Strawberry's own error log (every error, with its traceback and
    the query text) is off."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(settings: Settings) -> strawberry.Schema:
    # Parsing is cached by query text, so a known query text comes back as the same document,
    # which the request checks know: measured and validated once (app.graphql.request_checks).
    documents = DocumentCache(DOCUMENT_CACHE_SIZE)
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        OperationMetrics,
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: RequestChecks(settings, documents),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return ServingSchema(
        query=Query,
        types=HISTORY_ITEM_TYPES,
        config=StrawberryConfig(disable_field_suggestions=True),
        extensions=extensions,
        execution_context_class=compiling_executor() if settings.graphql_compiled_plans else None,
    )
