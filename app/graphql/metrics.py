"""Counts GraphQL operations by name (`anonymous` for unnamed ones) in the metrics."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app.ops.metrics import GRAPHQL_OPERATIONS


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        GRAPHQL_OPERATIONS.labels(self.execution_context.operation_name or "anonymous").inc()
