"""Agents (the people and services that read histories): lookup, creation, password checks.

Passwords are hashed with Argon2id (argon2-cffi); a login for an unknown email still spends the
time of one verification, so the answer's timing does not tell which emails exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.tables import agents

_hasher = PasswordHasher()
_UNKNOWN_AGENT_HASH = _hasher.hash("no agent has this password")


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
    connection: AsyncConnection, email: str, password: str
) -> Agent | None:
    """The active agent with this email and password, or None."""
    row = (
        await connection.execute(
            sa.select(agents).where(
                sa.func.lower(agents.c.email) == email.strip().lower(), agents.c.active.is_(True)
            )
        )
    ).first()
    stored = row.password_hash if row is not None and row.password_hash else _UNKNOWN_AGENT_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    return _agent(row._mapping) if row is not None else None


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
