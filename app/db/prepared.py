"""The hot statements: compiled once per shape, then run on the driver connection.

SQLAlchemy builds and compiles each statement the first time its shape is seen, for the
connection's dialect: the same SQL it would run itself. Later executions of that shape only bind
values by name and hand the SQL to asyncpg or aiosqlite, skipping what SQLAlchemy redoes on every
execution (building the statement, its cache key, the cursor and result wrappers): about 0.4 ms a
statement on the reference machine, and a history request runs several.

A shape is a hashable description of everything but the values (how many ids, which filters are
set); `build(shape)` makes the statement with a `sa.bindparam(name)` for each value, and literals
of the shape become constants of the compiled statement. Statements whose values would need
SQLAlchemy's type conversion or expansion are refused when compiled, so a shape runs exactly as
SQLAlchemy would run it. Connections come from `driver_connection`, which maps driver errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

from app.db.access import driver_connection
from app.db.engine import count_statement

SQL_CACHE_SIZE = 512

Build = Callable[[Any], sa.ClauseElement]
Row = Sequence[Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Per placeholder, in order: the name of a value to bind, or a constant of the shape.
    parameters: tuple[tuple[str | None, object], ...]

    def arguments(self, values: Mapping[str, object]) -> list[object]:
        return [
            values[name] if name is not None else constant for name, constant in self.parameters
        ]


@functools.lru_cache(maxsize=SQL_CACHE_SIZE)
def _compile(dialect: Dialect, build: Build, shape: Hashable) -> _Compiled:
    compiled = cast(SQLCompiler, build(shape).compile(dialect=dialect))
    if not compiled.positional or compiled.positiontup is None:
        raise TypeError(f"{dialect.name}: prepared statements need a positional paramstyle")
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise TypeError("prepared statements take no expanding or literal-execute parameters")
    parameters: list[tuple[str | None, object]] = []
    for name in compiled.positiontup:
        if name in compiled._bind_processors:
            raise TypeError(f"parameter {name} needs SQLAlchemy's type conversion")
        bind = compiled.binds[name]
        parameters.append((name, None) if bind.required else (None, bind.effective_value))
    return _Compiled(compiled.string, tuple(parameters))


async def fetch(
    engine: AsyncEngine, build: Build, shape: Hashable, values: Mapping[str, object]
) -> Sequence[Row]:
    """The rows of the statement of this shape, with these values."""
    statement = _compile(engine.dialect, build, shape)
    arguments = statement.arguments(values)
    async with driver_connection(engine) as driver:
        count_statement()
        if engine.dialect.driver == "asyncpg":
            rows: Sequence[Row] = await driver.fetch(statement.sql, *arguments)
            return rows
        async with driver.execute(statement.sql, arguments) as cursor:
            return list(await cursor.fetchall())


async def execute(
    engine: AsyncEngine, build: Build, shape: Hashable, values: Mapping[str, object]
) -> None:
    """Run a statement of this shape that returns no rows (an insert), committed."""
    statement = _compile(engine.dialect, build, shape)
    arguments = statement.arguments(values)
    async with driver_connection(engine) as driver:
        count_statement()
        if engine.dialect.driver == "asyncpg":
            await driver.execute(statement.sql, *arguments)  # asyncpg autocommits
            return
        await driver.execute(statement.sql, arguments)
        # sqlite3 opened a transaction for the insert; the pool's reset would roll it back.
        await driver.commit()
