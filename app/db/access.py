"""Connections for the loaders: an outage of the helpdesk database becomes SERVICE_UNAVAILABLE,
and a value it cannot hold BAD_USER_INPUT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.errors import BadUserInput, ServiceUnavailable

# Failures of reaching or keeping the database, as opposed to bugs in a statement.
_OUTAGES = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, OSError)


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for one loader batch or one write (sibling batches run
    concurrently, each on its own connection)."""
    try:
        async with engine.connect() as connection:
            # Every use is one statement (reads, or one upsert, delete or insert): autocommit
            # spares a BEGIN and a ROLLBACK round trip each (about 6 % of a REST request).
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection
    except _OUTAGES as error:
        raise ServiceUnavailable("The helpdesk database is unavailable.") from error
    except exc.DBAPIError as error:
        if error.connection_invalidated:
            # The connection broke mid-statement; the pool has dropped it and its siblings.
            raise ServiceUnavailable("The helpdesk database is unavailable.") from error
        if not _is_data_exception(error):
            raise
        # A value the database cannot hold at all (PostgreSQL refuses NUL characters in text):
        # no stored row can match it, and the caller sent it.
        raise BadUserInput("A value contains a character that cannot be stored.") from error


def _is_data_exception(error: exc.DBAPIError) -> bool:
    """SQLSTATE class 22, "data exception" (asyncpg reports some of them as plain errors)."""
    sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
    return isinstance(error, exc.DataError) or sqlstate.startswith("22")
