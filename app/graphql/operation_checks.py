"""Checks of the operation a request runs, made after validation and before any field resolves.

- **Which operation**: the one named by `operationName`, or the document's only one; a document
  with several operations and no name is refused, as the GraphQL spec says (Strawberry would
  run the first).
- **Demand control**: the operation's cost (`app.graphql.limits`), with the request's variables,
  against GRAPHQL_MAX_COST. Over it, the request is refused naming both; either way the answer
  reports them in the `X-GraphQL-Cost` and `X-GraphQL-Cost-Limit` headers, so clients can see
  how close they are (headers, as Hive Router does, so that answer bodies stay as they were).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.graphql.limits import measure_operation
from app.graphql.strawberry_private import core_schema, provided_operation_name

COST_HEADER = "X-GraphQL-Cost"
COST_LIMIT_HEADER = "X-GraphQL-Cost-Limit"


class OperationChecks(SchemaExtension):
    """One instance per request (the schema is given a factory)."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        refusal = self._refusal()
        if refusal is not None:
            self.execution_context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def _refusal(self) -> GraphQLError | None:
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return None
        name = provided_operation_name(context)
        operation = get_operation_ast(document, name)
        if operation is None:
            return GraphQLError(
                f"Unknown operation named '{name}'."
                if name
                else "Must provide operation name if query contains multiple operations."
            )
        cost = _cost(context, document, operation)
        context.context.response.headers.update(
            {COST_HEADER: str(cost), COST_LIMIT_HEADER: str(self.max_cost)}
        )
        if cost > self.max_cost:
            return GraphQLError(
                f"The query's estimated cost is {cost}; the limit is {self.max_cost}. "
                "Ask for fewer or smaller pages.",
                operation,
            )
        return None


def _cost(
    context: ExecutionContext, document: DocumentNode, operation: OperationDefinitionNode
) -> int:
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return measure_operation(core_schema(context), fragments, operation, context.variables).cost
