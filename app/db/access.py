"""Connections for the loaders: an outage of the helpdesk database becomes SERVICE_UNAVAILABLE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.errors import ServiceUnavailable

# Failures of reaching or keeping the database, as opposed to bugs in a statement.
_OUTAGES = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, OSError)


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for one loader batch (sibling batches run concurrently)."""
    try:
        async with engine.connect() as connection:
            yield connection
    except _OUTAGES as error:
        raise ServiceUnavailable("The helpdesk database is unavailable.") from error
