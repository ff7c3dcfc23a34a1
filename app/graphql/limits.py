"""What a document asks for, measured in one pass: its depth, aliases, repeated fields and cost.

Every selection set is walked once and every fragment is measured once, whatever the number of
places that spread it; a spread adds the fragment's measure. So a chain of fragments that each
spread the next twice, whose expansion doubles with every link, is measured in time linear in
its size (the numbers it yields may be astronomical; Python's integers hold them).

- **Depth**: fields nested inside each other, the leaf included; introspection fields
  (`__schema`, `__type`, `__typename`) count 0 (graphql-core bounds introspection's own nesting).
- **Aliases**: aliased fields with their fragments expanded.
- **Repeats**: the most fields of one selection set, fragments and inline fragments merged in,
  that share a response name. graphql-core's OverlappingFieldsCanBeMergedRule compares every
  such pair, so its time grows with the square of this number: bounding it bounds validation.
- **Cost** (demand control, docs/graphql.md): how many values the answer may hold. Every field
  costs 1 (`__typename` too; `__schema`, a whole introspection, INTROSPECTION_COST), and a list
  multiplies the cost of its items by its size: `tickets(ids:)` by the number of ids, the
  `edges` and `nodes` of a connection by the page size its field asks for (`first` or `last`,
  default 20), any other list by 1. A variable's value is used where the request gives one; a
  value that is not a number counts as the largest page. Fragments and inline fragments add up
  (an upper bound for fields of different types); `@skip` and `@include` are ignored.

Only the cost depends on the request's variables, and only on those that size pages or id lists:
`sizing_variables` names them, so a measure can be reused for other values of the others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
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
# A whole introspection answers a few thousand values and costs about as much CPU as a history
# page of that many; five of them in one document reach the default GRAPHQL_MAX_COST.
INTROSPECTION_COST = 10_000
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


@dataclass(frozen=True, slots=True)
class Measure:
    """A selection's measure; `per_item` is the cost that its connection's page size multiplies
    (the cost of its `edges` and `nodes` items), 0 outside a connection."""

    depth: int = 0
    aliases: int = 0
    repeats: int = 0
    cost: int = 0
    per_item: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            max(self.repeats, other.repeats),
            self.cost + other.cost,
            self.per_item + other.per_item,
        )


_NOTHING = Measure()


@dataclass(frozen=True, slots=True)
class _Part:
    """A selection set's measure and its response names, with how often each is selected."""

    measure: Measure = _NOTHING
    names: Counter[str] = field(default_factory=Counter)


def measure_operation(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None = None,
) -> tuple[Measure, frozenset[str]]:
    """The measure of one operation with VARIABLES (None: defaults only), and the variables
    whose values it depends on (those that size pages and id lists)."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return _NOTHING, frozenset()
    walk = _Walk(schema, fragments, operation, variables or {})
    measure = walk.selection(root, operation.selection_set)
    total = Measure(
        measure.depth, measure.aliases, measure.repeats, measure.cost + measure.per_item
    )
    return total, frozenset(walk.sizing)


def values_in(variables: object) -> int:
    """How many JSON values VARIABLES hold, containers included (without recursion)."""
    count, pending = 0, [variables]
    while pending:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count


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
        self._measured: dict[str, _Part] = {}
        self._measuring: set[str] = set()
        self.sizing: set[str] = set()

    def selection(
        self, parent: GraphQLCompositeType, selection_set: SelectionSetNode | None
    ) -> Measure:
        part = self._part(parent, selection_set)
        repeats = max(part.names.values(), default=0)
        return part.measure + Measure(repeats=repeats)

    def _part(self, parent: GraphQLCompositeType, selection_set: SelectionSetNode | None) -> _Part:
        measure, names = _NOTHING, Counter[str]()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                measure += self._field(parent, selection)
                names[(selection.alias or selection.name).value] += 1
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._type(condition.name.value) if condition else parent
                part = self._part(inner, selection.selection_set) if inner else _Part()
            else:
                assert isinstance(selection, FragmentSpreadNode)
                part = self._fragment(selection.name.value)
            measure += part.measure
            names.update(part.names)
        return _Part(measure, names)

    def _fragment(self, name: str) -> _Part:
        found = self._measured.get(name)
        if found is not None:
            return found
        fragment = self._fragments.get(name)
        # A cycle or an unknown fragment measures nothing: validation reports both.
        if fragment is None or name in self._measuring:
            return _Part()
        inner = self._type(fragment.type_condition.name.value)
        self._measuring.add(name)
        part = self._part(inner, fragment.selection_set) if inner else _Part()
        self._measuring.discard(name)
        self._measured[name] = part
        return part

    def _type(self, name: str) -> GraphQLCompositeType | None:
        found = self._schema.get_type(name)
        return found if is_composite_type(found) else None

    def _field(self, parent: GraphQLCompositeType, node: FieldNode) -> Measure:
        aliases = 1 if node.alias else 0
        name = node.name.value
        if name == "__typename":
            return Measure(aliases=aliases, cost=1)
        meta = _META_FIELDS.get(name)
        definition: GraphQLField | None = meta or getattr(parent, "fields", {}).get(name)
        if definition is None:
            return Measure(aliases=aliases)
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            count = self._list_size(definition.type, node)
            return Measure(depth=1, aliases=aliases, cost=1 if count is None else count)
        inner = self.selection(named, node.selection_set)
        if meta is not None:  # introspection: its aliases and repeats count, its depth does not
            cost = INTROSPECTION_COST if meta is SchemaMetaFieldDef else 1 + inner.cost
            return Measure(aliases=aliases + inner.aliases, repeats=inner.repeats, cost=cost)
        page = self._page_size(definition, node)
        each = 1 + inner.cost + inner.per_item * (UNSIZED_LIST if page is None else page)
        depth, aliases = 1 + inner.depth, aliases + inner.aliases
        count = self._list_size(definition.type, node)
        if count is not None and name in SIZED_FIELDS:
            # The items of a connection's page, multiplied by the page size one level up.
            return Measure(depth, aliases, inner.repeats, per_item=each)
        return Measure(depth, aliases, inner.repeats, cost=each * (1 if count is None else count))

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
        """A sizing argument's value: an int, a list, None, or anything else."""
        if node is None:
            return None
        if isinstance(node, VariableNode):
            self.sizing.add(node.name.value)
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
