"""What a document asks for, measured in one pass: its depth, its aliases and its cost.

Every selection set is walked once and every fragment is measured once, whatever the number of
places that spread it; a spread adds the fragment's measure. So a chain of fragments that each
spread the next twice, whose expansion doubles with every link, is measured in time linear in
its size (the numbers it yields may be astronomical; Python's integers hold them).

- **Depth**: fields nested inside each other (a leaf counts 0, a field with a selection one more
  than its deepest child); introspection fields (`__schema`, `__type`, `__typename`) count 0.
- **Aliases**: aliased fields of the operation with its fragments expanded.
- **Cost** (demand control, docs/graphql.md): how many values the answer may hold. Every field
  costs 1 (`__typename` too; the introspection fields `__schema` and `__type` nothing), and a list
  multiplies the cost of its items by its size: `tickets(ids:)` by the number of ids, the `edges`
  and `nodes` of a connection by the page size its field asks for (`first` or `last`, default
  20), any other list by 1. A variable's value is used where the request gives one; a value that
  is not a number counts as the largest page. Fragments and inline fragments add up (an upper
  bound for fields of different types); `@skip` and `@include` are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)

from app.history.service import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# Arguments that size the page of a connection, and the list fields of a connection they size.
SLICING_ARGUMENTS = ("first", "last")
SIZED_FIELDS = frozenset({"edges", "nodes"})
# An argument whose list value sizes the list its field returns.
ID_LIST_ARGUMENT = "ids"
UNSIZED_LIST = 1


@dataclass(frozen=True, slots=True)
class Measure:
    """A selection's measure; `per_item` is the cost that its connection's page size multiplies
    (the cost of its `edges` and `nodes` items), 0 outside a connection."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    per_item: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.cost + other.cost,
            self.per_item + other.per_item,
        )


_NOTHING = Measure()


def measure_operation(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None = None,
) -> Measure:
    """The measure of one operation; VARIABLES are the request's (None: defaults only)."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return _NOTHING
    measure = _Walk(schema, fragments, operation, variables or {}).selection(
        root, operation.selection_set
    )
    return Measure(measure.depth, measure.aliases, measure.cost + measure.per_item)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = {**_variable_defaults(operation), **variables}
        self._measured: dict[str, Measure] = {}
        self._measuring: set[str] = set()

    def selection(
        self, parent: GraphQLCompositeType, selection_set: SelectionSetNode | None
    ) -> Measure:
        total = _NOTHING
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._type(condition.name.value) if condition else parent
                if inner is not None:
                    total += self.selection(inner, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> Measure:
        found = self._measured.get(name)
        if found is not None:
            return found
        fragment = self._fragments.get(name)
        # A cycle or an unknown fragment measures nothing: validation reports both.
        if fragment is None or name in self._measuring:
            return _NOTHING
        inner = self._type(fragment.type_condition.name.value)
        self._measuring.add(name)
        measure = self.selection(inner, fragment.selection_set) if inner else _NOTHING
        self._measuring.discard(name)
        self._measured[name] = measure
        return measure

    def _type(self, name: str) -> GraphQLCompositeType | None:
        found = self._schema.get_type(name)
        return found if is_composite_type(found) else None

    def _field(self, parent: GraphQLCompositeType, node: FieldNode) -> Measure:
        aliases = 1 if node.alias else 0
        name = node.name.value
        if name == "__typename":
            return Measure(aliases=aliases, cost=1)
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if name.startswith("__") or definition is None:
            return Measure(aliases=aliases)
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            count = self._list_size(definition.type, node)
            return Measure(depth=1, aliases=aliases, cost=1 if count is None else count)
        inner = self.selection(named, node.selection_set)
        page = self._page_size(definition, node)
        each = 1 + inner.cost + inner.per_item * (UNSIZED_LIST if page is None else page)
        depth, aliases = 1 + inner.depth, aliases + inner.aliases
        count = self._list_size(definition.type, node)
        if count is not None and name in SIZED_FIELDS:
            # The items of a connection's page, multiplied by the page size one level up.
            return Measure(depth, aliases, per_item=each)
        return Measure(depth, aliases, cost=each * (1 if count is None else count))

    def _page_size(self, definition: GraphQLField, node: FieldNode) -> int | None:
        """The page size a connection field asks for; None for a field that takes no page."""
        if not any(name in definition.args for name in SLICING_ARGUMENTS):
            return None
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in SLICING_ARGUMENTS:
            value = self._value(given.get(name))
            if isinstance(value, int):
                return max(0, min(MAX_PAGE_SIZE, value))
            if value is not None:
                return MAX_PAGE_SIZE
        return DEFAULT_PAGE_SIZE

    def _list_size(self, type_: GraphQLOutputType, node: FieldNode) -> int | None:
        """How many items a list field returns; None when it is not a list."""
        unwrapped = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if not isinstance(unwrapped, GraphQLList):
            return None
        for argument in node.arguments or ():
            if argument.name.value == ID_LIST_ARGUMENT:
                value = self._value(argument.value)
                return len(value) if isinstance(value, list) else UNSIZED_LIST
        return UNSIZED_LIST

    def _value(self, node: ValueNode | None) -> object:
        """An argument's value as far as sizes go: an int, a list, None, or anything else."""
        if node is None:
            return None
        if isinstance(node, VariableNode):
            value = self._variables.get(node.name.value)
            return None if isinstance(value, bool) else value
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return object()  # a literal of another kind: validation refuses it


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        default = definition.default_value
        if isinstance(default, IntValueNode):
            defaults[definition.variable.name.value] = int(default.value)
        elif isinstance(default, ListValueNode):
            defaults[definition.variable.name.value] = list(default.values)
    return defaults


def limit_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing operations nested deeper than MAX_DEPTH fields, and documents
    with more than MAX_ALIASES aliases (counted with their fragments expanded)."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                definition.name.value: definition
                for definition in document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            aliases = 0
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                measure = measure_operation(context.schema, fragments, definition)
                aliases += measure.aliases
                if measure.depth > max_depth:
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            definition,
                        )
                    )
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}")
                )

    return DocumentLimits
