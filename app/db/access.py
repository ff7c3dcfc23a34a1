"""Connections for the loaders: an outage of the helpdesk database becomes SERVICE_UNAVAILABLE,
and a value it cannot hold BAD_USER_INPUT.

Errors arrive two ways: wrapped by SQLAlchemy (statements it runs), or straight from asyncpg or
sqlite3 (the prepared statements of `app.db.prepared`); both are mapped alike.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import greenlet_spawn

from app.errors import BadUserInput, GatewayError, ServiceUnavailable

# Failures of reaching or keeping the database, as opposed to bugs in a statement.
_OUTAGES = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    OSError,
    asyncpg.InterfaceError,
    sqlite3.OperationalError,
)
# SQLSTATE classes of a lost connection (08), exhausted resources (53) and operator
# intervention (57: a shutdown, a cancelled statement).
_OUTAGE_CLASSES = ("08", "53", "57")
_UNAVAILABLE = "The helpdesk database is unavailable."


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled SQLAlchemy connection for one loader batch or one write (sibling batches run
    concurrently, each on its own connection)."""
    async with _mapped_errors(), engine.connect() as connection:
        # Every use is one statement (reads, or one upsert, delete or insert): autocommit
        # spares a BEGIN and a ROLLBACK round trip each (about 6 % of a REST request).
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection as the driver's own object (asyncpg's or aiosqlite's), for one
    prepared statement (`app.db.prepared`): no SQLAlchemy connection is built around it, which
    costs a fifth of what `read_connection` does."""
    async with _mapped_errors():
        pooled = await engine.raw_connection()
        try:
            yield pooled.driver_connection
        except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError) as lost:
            # SQLAlchemy did not see the driver lose it: the pool must not hand it out again.
            await greenlet_spawn(pooled.invalidate, lost)
            raise
        finally:
            # Back to the pool (its reset on return may need the driver: hence the greenlet).
            await greenlet_spawn(pooled.close)


@asynccontextmanager
async def _mapped_errors() -> AsyncIterator[None]:
    try:
        yield
    except _OUTAGES as error:
        raise ServiceUnavailable(_UNAVAILABLE) from error
    except (asyncpg.PostgresError, exc.DBAPIError) as error:
        mapped = _mapped(error)
        if mapped is None:
            raise
        raise mapped from error


def _mapped(error: asyncpg.PostgresError | exc.DBAPIError) -> GatewayError | None:
    """The answer to a failed statement, or None for a bug in it."""
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            # The connection broke mid-statement; the pool has dropped it and its siblings.
            return ServiceUnavailable(_UNAVAILABLE)
        sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
    else:
        sqlstate = str(error.sqlstate or "")
    if sqlstate.startswith(_OUTAGE_CLASSES):
        return ServiceUnavailable(_UNAVAILABLE)
    if isinstance(error, exc.DataError) or sqlstate.startswith("22"):
        # A value the database cannot hold at all (PostgreSQL refuses NUL characters in text):
        # no stored row can match it, and the caller sent it.
        return BadUserInput("A value contains a character that cannot be stored.")
    return None
