"""Every check of a GraphQL request before any field resolves, cheapest first.

1. **Limits, in linear time** (`app.graphql.limits`): depth, aliases, repeated response names,
   the size of the variables and the operation's cost. A document over any of them is refused
   before graphql-core validates it: some of graphql-core's rules take time that grows faster
   than the document (OverlappingFieldsCanBeMergedRule compares every pair of same-named
   fields), so they only ever see documents these limits have bounded.
2. **graphql-core's validation**, once per document: parsed documents come from Strawberry's
   ParserCache, one object per query text, and their validation errors are kept with them.
3. **Which operation**: the one named by `operationName`, or the document's only one; a document
   with several operations and no name is refused, as the GraphQL spec says (Strawberry would
   run the first).

The answer reports the cost and its limit in the `X-GraphQL-Cost` and `X-GraphQL-Cost-Limit`
headers (headers, as Hive Router does, so that answer bodies stay as they were).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from app.config import Settings
from app.graphql.limits import Measure, measure_operation, values_in
from app.graphql.strawberry_private import core_schema, provided_operation_name

COST_HEADER = "X-GraphQL-Cost"
COST_LIMIT_HEADER = "X-GraphQL-Cost-Limit"
DOCUMENT_CACHE_SIZE = 256
# Measures kept per document, one per set of page sizes and id-list lengths.
MEASURES_PER_DOCUMENT = 16

_SizeKey = tuple[tuple[str, object], ...]


@dataclass
class _Document:
    """What is known of one parsed document: its operations and fragments, its validation errors
    (once computed), and its operations' measures by the sizes their variables give.

    Operations are known by their position: names may repeat until validation has run, and a
    node's hash walks its whole tree."""

    node: DocumentNode
    operations: list[OperationDefinitionNode]
    fragments: dict[str, FragmentDefinitionNode]
    errors: list[GraphQLError] | None = None
    sizing: dict[int, frozenset[str]] = field(default_factory=dict)
    measures: OrderedDict[tuple[int, _SizeKey], Measure] = field(default_factory=OrderedDict)


class DocumentCache:
    """The most recently used documents, by identity (ParserCache hands out one per text)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[int, _Document] = OrderedDict()

    def of(self, document: DocumentNode) -> _Document:
        entry = self._entries.get(id(document))
        if entry is not None and entry.node is document:
            self._entries.move_to_end(id(document))
            return entry
        definitions = document.definitions
        entry = _Document(
            document,
            [d for d in definitions if isinstance(d, OperationDefinitionNode)],
            {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)},
        )
        # The entry keeps its document alive, so its id is not reused while it is cached.
        self._entries[id(document)] = entry
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return entry


class RequestChecks(SchemaExtension):
    """One instance per request (the schema is given a factory) sharing one document cache."""

    def __init__(self, settings: Settings, documents: DocumentCache) -> None:
        self._settings = settings
        self._documents = documents

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            # Set, even to an empty list, Strawberry's own validation does not run again.
            context.pre_execution_errors = self._errors(context.graphql_document)
        yield

    def _errors(self, node: DocumentNode) -> list[GraphQLError]:
        context = self.execution_context
        settings = self._settings
        schema = core_schema(context)
        document = self._documents.of(node)
        variables = context.variables or {}
        if values_in(variables) > settings.graphql_max_variable_values:
            return [
                GraphQLError(
                    f"The variables hold over {settings.graphql_max_variable_values} values."
                )
            ]
        chosen = get_operation_ast(node, provided_operation_name(context))
        measures = [
            _measure(schema, document, position, variables)
            for position in range(len(document.operations))
        ]
        refusals = _limit_errors(settings, document.operations, measures)
        if chosen is not None and not refusals:
            cost = next(
                m for o, m in zip(document.operations, measures, strict=True) if o is chosen
            ).cost
            context.context.response.headers.update(
                {COST_HEADER: str(cost), COST_LIMIT_HEADER: str(settings.graphql_max_cost)}
            )
            if cost > settings.graphql_max_cost:
                refusals.append(
                    GraphQLError(
                        f"The query's estimated cost is {cost}; the limit is "
                        f"{settings.graphql_max_cost}. Ask for fewer or smaller pages.",
                        chosen,
                    )
                )
        if refusals:
            return refusals
        if document.errors is None:
            # graphql-core's rules with the ones Strawberry adds (and DisableIntrospection's).
            document.errors = validate_document(schema, node, tuple(context.validation_rules))
        if document.errors or chosen is not None:
            return document.errors
        name = provided_operation_name(context)
        return [
            GraphQLError(
                f"Unknown operation named '{name}'."
                if name
                else "Must provide operation name if query contains multiple operations."
            )
        ]


def _measure(
    schema: GraphQLSchema, document: _Document, position: int, variables: dict[str, object]
) -> Measure:
    """The measure of the document's POSITIONth operation, reused while the variables that size
    it keep their sizes."""
    sizing = document.sizing.get(position)
    key = (position, _sizes(variables, sizing)) if sizing is not None else None
    found = document.measures.get(key) if key is not None else None
    if found is not None:
        return found
    operation = document.operations[position]
    measure, document.sizing[position] = measure_operation(
        schema, document.fragments, operation, variables
    )
    document.measures[(position, _sizes(variables, document.sizing[position]))] = measure
    if len(document.measures) > MEASURES_PER_DOCUMENT:
        document.measures.popitem(last=False)
    return measure


def _sizes(variables: dict[str, object], names: frozenset[str]) -> _SizeKey:
    """What the cost sees of the sizing variables: ints as they are, lists by their length."""

    def size(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return ("list", len(value)) if isinstance(value, list) else type(value).__name__

    return tuple(sorted((name, size(variables.get(name))) for name in names))


def _limit_errors(
    settings: Settings, operations: list[OperationDefinitionNode], measures: list[Measure]
) -> list[GraphQLError]:
    errors = []
    for operation, measure in zip(operations, measures, strict=True):
        if measure.depth > settings.graphql_max_depth:
            name = operation.name.value if operation.name else "anonymous"
            errors.append(
                GraphQLError(
                    f"'{name}' exceeds maximum operation depth of {settings.graphql_max_depth}",
                    operation,
                )
            )
    repeats = max((measure.repeats for measure in measures), default=0)
    if repeats > settings.graphql_max_field_repeats:
        errors.append(
            GraphQLError(
                f"A selection asks for the same field {repeats} times (fragments included); "
                f"at most {settings.graphql_max_field_repeats} are allowed."
            )
        )
    aliases = sum(measure.aliases for measure in measures)
    if aliases > settings.graphql_max_aliases:
        errors.append(
            GraphQLError(f"{aliases} aliases found. Allowed: {settings.graphql_max_aliases}")
        )
    return errors
