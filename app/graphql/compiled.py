"""Compiled completion: an object whose selection is plain data is completed by a plan made once
per document, not field by field through graphql-core.

graphql-core spends about 4 µs on each field it resolves (resolve info, path, resolver call,
completion): a history page of 100 items selects some 1,300 fields. A plan reads the same
attributes and coerces the same leaves with the same scalar functions, in one pass.

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
from operator import attrgetter
from typing import Any, ClassVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

from app.ops.metrics import GRAPHQL_PLANS

PLAN_CACHE_SIZE = 1024
_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF

Complete = Callable[[Any], Any]
Read = Callable[[Any], Any]


class _Unexpected(Exception):
    """A value the plan does not handle: graphql-core completes the object instead."""


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
        plan = _Compiler(self).object_plan(object_type, fields)
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
    def __init__(self, executor: CompilingExecutor) -> None:
        self._executor = executor

    def object_plan(
        self, object_type: GraphQLObjectType, fields: FieldDetailsList
    ) -> Complete | None:
        executor = self._executor
        if not executor.compiles() or not all(
            details.defer_usage is None
            and details.fragment_variable_values is None
            and _without_directives(details.node.selection_set, executor.fragment_definitions)
            for details in fields
        ):
            return None
        accepts = _accepts(object_type)
        if accepts is None:
            return None
        grouped, new_defer_usages, _ = executor.collect_subfields(object_type, fields)
        if new_defer_usages:
            return None
        plans: list[tuple[str, Read, Complete]] = []
        for response_name, sub_fields in grouped.items():
            field_plan = self._field_plan(object_type, sub_fields)
            if field_plan is None:
                return None
            plans.append((response_name, *field_plan))
        return _object(accepts, tuple(plans))

    def _field_plan(
        self, object_type: GraphQLObjectType, fields: FieldDetailsList
    ) -> tuple[Read, Complete] | None:
        node = fields[0].node
        name = node.name.value
        if name == "__typename":
            type_name = object_type.name
            return (lambda _source: type_name), _identity
        field = object_type.fields.get(name)
        if field is None or field.args or node.arguments:
            return None
        read = _reader(field.extensions.get(_DEFINITION))
        complete = self._value_plan(field.type, fields) if read is not None else None
        return (read, complete) if read is not None and complete is not None else None

    def _value_plan(self, type_: GraphQLOutputType, fields: FieldDetailsList) -> Complete | None:
        """Completes a field's value: null where the type allows it, else the plan of its type."""
        if is_non_null_type(type_):
            inner = self._non_null_plan(type_.of_type, fields)
            return _required(inner) if inner is not None else None
        inner = self._non_null_plan(type_, fields)
        return _optional(inner) if inner is not None else None

    def _non_null_plan(self, type_: GraphQLOutputType, fields: FieldDetailsList) -> Complete | None:
        if is_list_type(type_):
            item = self._value_plan(type_.of_type, fields)
            return _list(item) if item is not None else None
        if is_leaf_type(type_):
            return _leaf(type_)
        if is_object_type(type_):
            return self.object_plan(type_, fields)
        if isinstance(type_, GraphQLInterfaceType):
            return self._interface_plan(type_, fields)
        return None

    def _interface_plan(
        self, interface: GraphQLInterfaceType, fields: FieldDetailsList
    ) -> Complete | None:
        definition = interface.extensions.get(_DEFINITION)
        # Strawberry's own type resolution, which picks the type of the object's class.
        if not isinstance(definition, StrawberryObjectDefinition) or definition.resolve_type:
            return None
        by_class: dict[type, Complete] = {}
        for object_type in self._executor.schema.get_possible_types(interface):
            origin = _origin(object_type)
            plan = self.object_plan(object_type, fields) if origin is not None else None
            if origin is None or plan is None:
                return None
            by_class[origin] = plan
        return _by_class(by_class)


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


def _accepts(object_type: GraphQLObjectType) -> Callable[[Any], bool] | None:
    """The check an object must pass before its plan applies (None: the type never qualifies).

    graphql-core asks `is_type_of` where the type has one; Strawberry's accepts instances of the
    type (and of its interfaces) or casts to it. A plan takes exactly the type's class, uncast;
    anything else goes to graphql-core, which asks `is_type_of` itself.
    """
    if object_type.is_type_of is None:
        return _anything
    definition = object_type.extensions.get(_DEFINITION)
    origin = _origin(object_type)
    if origin is None or not isinstance(definition, StrawberryObjectDefinition):
        return None
    if definition.is_type_of is not None:
        return None
    return lambda value: type(value) is origin and not hasattr(value, TYPE_CAST_ATTRIBUTE)


def _anything(_value: Any) -> bool:
    return True


def _reader(field: object) -> Read | None:
    """How a plan reads a field: the attribute, or a resolver that needs nothing but `self`."""
    if not isinstance(field, StrawberryField) or field.extensions:
        return None
    resolver = field.base_resolver
    if resolver is None:
        if field.default_resolver is getattr:
            return attrgetter(field.python_name)
        default, name = field.default_resolver, field.python_name
        return lambda source: default(source, name)
    if (
        resolver.is_async
        or resolver.self_parameter is None
        or len(resolver.signature.parameters) != 1
    ):
        return None
    read = resolver.wrapped_func
    return read if callable(read) else None


def _identity(value: Any) -> Any:
    return value


def _object(
    accepts: Callable[[Any], bool], plans: tuple[tuple[str, Read, Complete], ...]
) -> Complete:
    def complete(value: Any) -> dict[str, Any]:
        if not accepts(value):
            raise _Unexpected
        return {name: finish(read(value)) for name, read, finish in plans}

    return complete


def _by_class(plans: dict[type, Complete]) -> Complete:
    def complete(value: Any) -> Any:
        plan = plans.get(type(value))
        if plan is None:
            raise _Unexpected
        return plan(value)

    return complete


def _leaf(type_: GraphQLLeafType) -> Complete:
    coerce = type_.coerce_output_value

    def complete(value: Any) -> Any:
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _Unexpected
        return coerced

    return complete


def _list(item: Complete) -> Complete:
    def complete(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise _Unexpected
        return [item(each) for each in value]

    return complete


def _required(inner: Complete) -> Complete:
    def complete(value: Any) -> Any:
        if value is None or value is Undefined:
            raise _Unexpected
        return inner(value)

    return complete


def _optional(inner: Complete) -> Complete:
    def complete(value: Any) -> Any:
        return None if value is None or value is Undefined else inner(value)

    return complete
