"""The two Strawberry attributes the gateway reads that Strawberry does not make public.

Kept here so that a Strawberry upgrade that moves them breaks one module (and its tests), not
the code that needs them.
"""

from __future__ import annotations

from graphql import GraphQLSchema
from strawberry.types import ExecutionContext


def core_schema(context: ExecutionContext) -> GraphQLSchema:
    """graphql-core's schema behind the Strawberry schema an operation runs on."""
    schema: GraphQLSchema = context.schema._schema
    return schema


def provided_operation_name(context: ExecutionContext) -> str | None:
    """The `operationName` the request gave; Strawberry's `operation_name` falls back to the
    document's first operation, which the GraphQL spec forbids when there are several."""
    name: str | None = context._provided_operation_name
    return name
