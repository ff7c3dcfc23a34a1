"""Compiled completion: an object whose selection is plain data is completed by a plan made once
per document, not field by field through graphql-core.

graphql-core spends about 4 µs on each field it resolves (resolve info, path, resolver call,
completion): a history page of 100 items selects some 1,300 fields. A plan reads the same
attributes and coerces the same leaves with the same scalar functions, in one pass: a function
generated for the object's selection (`app.graphql.plan_code`).

An object qualifies when every selected field is `__typename`, a Strawberry field without a
resolver, or a synchronous resolver taking only `self` (no info, no arguments, no extensions),
when every object below it qualifies too, and when no directive (`@skip`, `@include`, `@defer`)
appears in its selection: plans are cached by document node, so they must not depend on
variables. Interfaces qualify when every possible type does; unions are left to graphql-core.

A value a plan does not expect (a null where the schema forbids one, an object of another class,
a leaf its scalar refuses) or an exception makes graphql-core complete that object as usual, so
answers and errors are the same either way; only plain reads and pure resolvers are ever redone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    is_leaf_type,
    is_list_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from app.graphql.plan_code import ByClass, Complete, Field, Leaf, ListOf, ObjectPlan, Value, build
from app.ops.metrics import GRAPHQL_PLANS

PLAN_CACHE_SIZE = 1024
_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class CompilingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing qualifying objects with cached plans."""

    plans: ClassVar[_PlanCache]

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = self._plan(return_type, field_details_list)
        if plan is not None:
            try:
                completed: dict[str, Any] = plan(result)
                return completed
            except Exception:  # graphql-core redoes it and reports what it finds
                GRAPHQL_PLANS.labels("fallback").inc()
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plan(self, object_type: GraphQLObjectType, fields: FieldDetailsList) -> Complete | None:
        nodes = tuple(details.node for details in fields)
        key = (object_type.name, *map(id, nodes))
        found = self.plans.get(key)
        if found is not None:
            return found[1]
        description = _Compiler(self).object_plan(object_type, fields)
        plan = build(description) if description is not None else None
        GRAPHQL_PLANS.labels("compiled" if plan is not None else "unsupported").inc()
        # The entry keeps its nodes alive, so their ids are not reused while it is cached.
        self.plans.put(key, (nodes, plan))
        return plan

    def compiles(self) -> bool:
        """Whether plans may replace field resolution at all in this execution."""
        middleware = getattr(self.middleware_manager, "middlewares", ())
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        return not middleware and not getattr(strawberry_schema, "exception_handlers", ())


def compiling_executor() -> type[CompilingExecutor]:
    """An executor class with a plan cache of its own: one per schema."""
    return type("CompilingExecutor", (CompilingExecutor,), {"plans": _PlanCache(PLAN_CACHE_SIZE)})


_Entry = tuple[tuple[FieldNode, ...], Complete | None]


class _PlanCache:
    """The most recently used plans (None for an object that does not qualify)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[object, ...], entry: _Entry) -> None:
        self._entries[key] = entry
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


class _Compiler:
    """Describes what a plan completes, or finds that an object does not qualify (None)."""

    def __init__(self, executor: CompilingExecutor) -> None:
        self._executor = executor

    def object_plan(
        self, object_type: GraphQLObjectType, fields: FieldDetailsList
    ) -> ObjectPlan | None:
        executor = self._executor
        if not executor.compiles() or not all(
            details.defer_usage is None
            and details.fragment_variable_values is None
            and _without_directives(details.node.selection_set, executor.fragment_definitions)
            for details in fields
        ):
            return None
        takes = _class_taken(object_type)
        if takes is _NEVER:
            return None
        grouped, new_defer_usages, _ = executor.collect_subfields(object_type, fields)
        if new_defer_usages:
            return None
        plan = ObjectPlan(origin=takes if isinstance(takes, type) else None)
        for response_name, sub_fields in grouped.items():
            field_plan = self._field(object_type, response_name, sub_fields)
            if field_plan is None:
                return None
            plan.fields.append(field_plan)
        return plan

    def _field(
        self, object_type: GraphQLObjectType, response_name: str, fields: FieldDetailsList
    ) -> Field | None:
        node = fields[0].node
        name = node.name.value
        if name == "__typename":
            return Field(response_name, typename=object_type.name)
        field = object_type.fields.get(name)
        if field is None or field.args or node.arguments:
            return None
        read = _reader(field.extensions.get(_DEFINITION))
        value = self._value(field.type, fields) if read is not None else None
        if read is None or value is None:
            return None
        if isinstance(read, str):
            return Field(response_name, attribute=read, value=value)
        return Field(response_name, resolver=read, value=value)

    def _value(self, type_: GraphQLOutputType, fields: FieldDetailsList) -> Value | None:
        nullable = not isinstance(type_, GraphQLNonNull)
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        kind: Leaf | ListOf | ByClass | ObjectPlan | None
        if is_list_type(named):
            item = self._value(named.of_type, fields)
            kind = ListOf(item) if item is not None else None
        elif is_leaf_type(named):
            kind = Leaf(named)
        elif is_object_type(named):
            kind = self.object_plan(named, fields)
        elif isinstance(named, GraphQLInterfaceType):
            kind = self._interface(named, fields)
        else:
            kind = None
        return Value(kind, nullable) if kind is not None else None

    def _interface(
        self, interface: GraphQLInterfaceType, fields: FieldDetailsList
    ) -> ByClass | None:
        definition = interface.extensions.get(_DEFINITION)
        # Strawberry's own type resolution, which picks the type of the object's class.
        if not isinstance(definition, StrawberryObjectDefinition) or definition.resolve_type:
            return None
        plans: dict[type, ObjectPlan] = {}
        for object_type in self._executor.schema.get_possible_types(interface):
            origin = _origin(object_type)
            plan = self.object_plan(object_type, fields) if origin is not None else None
            if origin is None or plan is None:
                return None
            plans[origin] = plan
        return ByClass(plans)


def _without_directives(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> bool:
    """Whether a selection (through its fragments, not its fields' own) uses no directive."""
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if selection.directives:
            return False
        if isinstance(selection, InlineFragmentNode):
            nested: SelectionSetNode | None = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or fragment.directives:
                return False
            nested = fragment.selection_set
        else:
            continue
        if not _without_directives(nested, fragments):
            return False
    return True


def _origin(object_type: GraphQLObjectType) -> type | None:
    """The Python class of a plain (not generic) Strawberry object type."""
    definition = object_type.extensions.get(_DEFINITION)
    if not isinstance(definition, StrawberryObjectDefinition):
        return None
    if definition.is_graphql_generic or definition.concrete_of is not None:
        return None
    return definition.origin


_NEVER = object()


def _class_taken(object_type: GraphQLObjectType) -> type | object | None:
    """The class a plan takes for this type: None for any object, _NEVER if plans cannot.

    graphql-core asks `is_type_of` where the type has one; Strawberry's accepts instances of the
    type (and of its interfaces) or casts to it. A plan takes exactly the type's class, uncast;
    anything else goes to graphql-core, which asks `is_type_of` itself.
    """
    if object_type.is_type_of is None:
        return None
    definition = object_type.extensions.get(_DEFINITION)
    origin = _origin(object_type)
    if origin is None or not isinstance(definition, StrawberryObjectDefinition):
        return _NEVER
    return _NEVER if definition.is_type_of is not None else origin


def _reader(field: object) -> str | Callable[[Any], Any] | None:
    """How a plan reads a field: an attribute's name, or a resolver needing only `self`."""
    if not isinstance(field, StrawberryField) or field.extensions:
        return None
    resolver = field.base_resolver
    if resolver is None:
        name = field.python_name
        if field.default_resolver is getattr and name.isidentifier():
            return name
        default = field.default_resolver
        return lambda source: default(source, name)
    if (
        resolver.is_async
        or resolver.self_parameter is None
        or len(resolver.signature.parameters) != 1
    ):
        return None
    read = resolver.wrapped_func
    return read if callable(read) else None
