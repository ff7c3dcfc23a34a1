"""Agents (the people and services that read histories): lookup, creation, password checks.

Passwords are hashed with Argon2id (argon2-cffi); a login for an unknown email still spends the
time of one verification, so the answer's timing does not tell which emails exist. A
verification costs tens of milliseconds of CPU and 64 MiB of memory, so it runs in the bounded
thread pool the caller gives (argon2-cffi releases the GIL), never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import Executor
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.access import read_connection
from app.db.tables import agents

_hasher = PasswordHasher()


@functools.cache
def _unknown_agent_hash() -> str:
    return _hasher.hash("no agent has this password")


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    email: str
    name: str


def _agent(row: sa.RowMapping) -> Agent:
    return Agent(id=row["id"], email=row["email"], name=row["name"])


async def active_agent(connection: AsyncConnection, agent_id: int) -> Agent | None:
    row = (
        await connection.execute(
            sa.select(agents.c.id, agents.c.email, agents.c.name).where(
                agents.c.id == agent_id, agents.c.active.is_(True)
            )
        )
    ).first()
    return _agent(row._mapping) if row is not None else None


async def agent_with_password(
    engine: AsyncEngine, email: str, password: str, hashing: Executor
) -> Agent | None:
    """The active agent with this email and password, or None; verified in HASHING, after the
    database connection is back in its pool."""
    async with read_connection(engine) as connection:
        row = (
            await connection.execute(
                sa.select(agents).where(
                    sa.func.lower(agents.c.email) == email.strip().lower(),
                    agents.c.active.is_(True),
                )
            )
        ).first()
    stored = row.password_hash if row is not None and row.password_hash else None
    loop = asyncio.get_running_loop()
    matches = await loop.run_in_executor(hashing, _verify, stored, password)
    return _agent(row._mapping) if row is not None and matches else None


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _unknown_agent_hash(), password) and stored is not None
    except (VerifyMismatchError, InvalidHashError):
        return False


async def create_agent(engine: AsyncEngine, *, email: str, name: str, password: str) -> Agent:
    async with engine.begin() as connection:
        agent_id = (
            await connection.execute(
                agents.insert()
                .values(
                    email=email.strip().lower(),
                    name=name,
                    password_hash=_hasher.hash(password),
                    active=True,
                    created_at=int(time.time()),
                )
                .returning(agents.c.id)
            )
        ).scalar_one()
    return Agent(id=agent_id, email=email.strip().lower(), name=name)
