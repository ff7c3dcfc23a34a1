"""Throwaway helpdesk databases for tests: a SQLite file or a fresh PostgreSQL database.

PostgreSQL is required when REQUIRE_POSTGRES=1 (CI); otherwise its tests are skipped, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_SERVER = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
BACKENDS = ("sqlite", "postgresql")


@asynccontextmanager
async def postgres_database(label: str) -> AsyncIterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = f"hg_test_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except (OSError, sa.exc.DBAPIError) as error:
        await admin.dispose()
        reason = f"PostgreSQL at {POSTGRES_SERVER} is unreachable: {error.__class__.__name__}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def database(backend: str, directory: Path, label: str) -> AsyncIterator[str]:
    """An empty database of the given backend."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / f'{label}.db'}"
    else:
        async with postgres_database(label) as url:
            yield url
