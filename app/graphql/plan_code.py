"""Plans as Python code: one function per object, made from a description of its selection.

`app.graphql.compiled` decides what a plan may complete and describes it (`ObjectPlan`); this
module turns that description into the source of a function and compiles it, so completing an
object is a run of attribute reads, type checks and a dict display instead of a call per field:

    def complete_2(value):
        if type(value) is not origin_0 or hasattr(value, CAST):
            raise Unexpected
        f0 = value.id
        if f0 is None or f0 is Undefined:
            raise Unexpected
        if type(f0) is not str:
            f0 = leaf_1(f0)
        ...
        return {'__typename': 'TicketEvent', 'id': f0, ...}

Leaves are coerced by their own type's function, except where that function is known to return
the value unchanged: a `str` for String and ID, an `int` in range for Int, a `bool` for Boolean,
and for a Strawberry enum its members, whose names are looked up once. Any value a plan does not
expect raises `Unexpected`, and the caller hands the object to graphql-core.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
)
from graphql.pyutils import Undefined
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

Complete = Callable[[Any], Any]
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class Unexpected(Exception):
    """A value the plan does not handle: graphql-core completes the object instead."""


@dataclass(frozen=True)
class Leaf:
    type: GraphQLLeafType


@dataclass(frozen=True)
class ListOf:
    item: Value


@dataclass(frozen=True)
class ByClass:
    """An interface: the plan of the object's exact class."""

    plans: dict[type, ObjectPlan]


@dataclass(frozen=True)
class Value:
    """How a field's value is completed: its type's plan, and whether null is allowed."""

    kind: Leaf | ListOf | ByClass | ObjectPlan
    nullable: bool


@dataclass(frozen=True)
class Field:
    response_name: str
    # The attribute to read, a function of the object (a resolver taking only `self`), or for
    # `__typename` the type's name as a constant.
    attribute: str | None = None
    resolver: Complete | None = None
    typename: str | None = None
    value: Value | None = None


@dataclass(eq=False)
class ObjectPlan:
    """An object type's plan: the class it takes (None: any object) and its fields."""

    origin: type | None
    fields: list[Field] = field(default_factory=list)


class _Source:
    """The code of a plan's functions, and the constants it refers to by name."""

    def __init__(self) -> None:
        self.namespace: dict[str, object] = {
            "Unexpected": Unexpected,
            "Undefined": Undefined,
            "CAST": TYPE_CAST_ATTRIBUTE,
        }
        self.functions: list[str] = []
        self.function_of: dict[int, str] = {}  # id of an ObjectPlan -> its function's name
        self.class_tables: list[dict[type, Any]] = []  # filled with functions after exec
        self._numbers = itertools.count()

    def name(self, hint: str) -> str:
        return f"{hint}_{next(self._numbers)}"

    def constant(self, value: object, hint: str) -> str:
        name = self.name(hint)
        self.namespace[name] = value
        return name


def build(plan: ObjectPlan) -> Complete:
    """The compiled function completing objects of PLAN."""
    source = _Source()
    entry = _object_function(plan, source)
    code = "\n\n".join(source.functions)
    exec(compile(code, "<graphql plan>", "exec"), source.namespace)  # the code generated above
    for table in source.class_tables:
        table.update({origin: source.namespace[name] for origin, name in table.items()})
    completed: Complete = source.namespace[entry]  # type: ignore[assignment]
    return completed


def _object_function(plan: ObjectPlan, source: _Source) -> str:
    """The name of PLAN's function, written once however often the plan is reached."""
    known = source.function_of.get(id(plan))
    if known is not None:
        return known
    name = source.function_of[id(plan)] = source.name("complete")
    lines = [f"def {name}(value):"]
    if plan.origin is not None:
        origin = source.constant(plan.origin, "origin")
        lines += [
            f"    if type(value) is not {origin} or hasattr(value, CAST):",
            "        raise Unexpected",
        ]
    entries: list[str] = []
    for n, each in enumerate(plan.fields):
        key = repr(each.response_name)
        if each.typename is not None:
            entries.append(f"{key}: {each.typename!r}")
            continue
        target = f"f{n}"
        if each.attribute is not None:
            lines.append(f"    {target} = value.{each.attribute}")
        else:
            lines.append(f"    {target} = {source.constant(each.resolver, 'resolve')}(value)")
        if each.value is None:
            raise ValueError(f"field {each.response_name} has no value plan")
        lines += _complete(target, each.value, source, "    ")
        entries.append(f"{key}: {target}")
    lines.append(f"    return {{{', '.join(entries)}}}")
    source.functions.append("\n".join(lines))
    return name


def _complete(target: str, value: Value, source: _Source, indent: str) -> list[str]:
    """Lines completing the value held in TARGET, in place."""
    missing = f"{target} is None or {target} is Undefined"
    if not value.nullable:
        return [
            f"{indent}if {missing}:",
            f"{indent}    raise Unexpected",
            *_complete_present(target, value, source, indent),
        ]
    return [
        f"{indent}if {missing}:",
        f"{indent}    {target} = None",
        f"{indent}else:",
        *_complete_present(target, value, source, indent + "    "),
    ]


def _complete_present(target: str, value: Value, source: _Source, indent: str) -> list[str]:
    kind = value.kind
    if isinstance(kind, Leaf):
        return _leaf(target, kind.type, source, indent)
    if isinstance(kind, ObjectPlan):
        return [f"{indent}{target} = {_object_function(kind, source)}({target})"]
    if isinstance(kind, ByClass):
        table = {origin: _object_function(plan, source) for origin, plan in kind.plans.items()}
        source.class_tables.append(table)
        return [
            f"{indent}{target} = {source.constant(table, 'by_class')}[type({target})]({target})"
        ]
    item = source.name("item")
    source.functions.append(
        "\n".join([f"def {item}(x):", *_complete("x", kind.item, source, "    "), "    return x"])
    )
    return [
        f"{indent}if type({target}) is not list and type({target}) is not tuple:",
        f"{indent}    raise Unexpected",
        f"{indent}{target} = [{item}(x) for x in {target}]",
    ]


def _leaf(target: str, type_: GraphQLLeafType, source: _Source, indent: str) -> list[str]:
    coerce = source.constant(_coercer(type_), "leaf")
    if type_ is GraphQLString or type_ is GraphQLID:
        return [
            f"{indent}if type({target}) is not str:",
            f"{indent}    {target} = {coerce}({target})",
        ]
    if type_ is GraphQLInt:
        return [
            f"{indent}if type({target}) is not int or not {_INT_MIN} <= {target} <= {_INT_MAX}:",
            f"{indent}    {target} = {coerce}({target})",
        ]
    if type_ is GraphQLBoolean:
        return [
            f"{indent}if {target} is not True and {target} is not False:",
            f"{indent}    {target} = {coerce}({target})",
        ]
    members = _enum_names(type_)
    if members is not None:
        enum_class, names = members
        cls, table = source.constant(enum_class, "enum"), source.constant(names, "names")
        return [
            f"{indent}{target} = {table}[{target}] if type({target}) is {cls}"
            f" else {coerce}({target})"
        ]
    return [f"{indent}{target} = {coerce}({target})"]


def _coercer(type_: GraphQLLeafType) -> Complete:
    coerce = type_.coerce_output_value

    def coerced(value: Any) -> Any:
        result = coerce(value)
        if result is None or result is Undefined:
            raise Unexpected
        return result

    return coerced


def _enum_names(type_: GraphQLLeafType) -> tuple[type[Enum], dict[Enum, Any]] | None:
    """A Strawberry enum's class and each member's name, as its own coercion gives them."""
    enum_class = getattr(type_, "wrapped_cls", None)
    if not isinstance(type_, GraphQLEnumType) or not (
        isinstance(enum_class, type) and issubclass(enum_class, Enum)
    ):
        return None
    names: dict[Enum, Any] = {}
    for member in enum_class:
        try:
            names[member] = type_.coerce_output_value(member)
        except Exception:  # a member the type cannot name: graphql-core reports it
            return None
    return enum_class, names
