"""API tokens for service clients (`Authorization: Bearer <token>`), stored only as hashes.

Tokens carry 256 random bits, so a plain SHA-256 is a safe way to store them: nothing short of
the token itself finds the row.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.agents import Agent
from app.db import prepared
from app.db.tables import agents, api_tokens

TOKEN_PREFIX = "hgw_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    token: str


async def issue_token(engine: AsyncEngine, *, email: str, name: str) -> IssuedToken:
    """A new token for the agent with this email; the token is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with engine.begin() as connection:
        agent_id = (
            await connection.execute(
                sa.select(agents.c.id).where(agents.c.email == email.strip().lower())
            )
        ).scalar_one_or_none()
        if agent_id is None:
            raise LookupError(f"no agent with email {email}")
        token_id = (
            await connection.execute(
                api_tokens.insert()
                .values(
                    agent_id=agent_id,
                    name=name,
                    token_hash=_digest(token),
                    created_at=int(time.time()),
                )
                .returning(api_tokens.c.id)
            )
        ).scalar_one()
    return IssuedToken(token_id, token)


async def revoke_token(engine: AsyncEngine, token_id: int) -> bool:
    async with engine.begin() as connection:
        result = await connection.execute(
            api_tokens.update()
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=int(time.time()))
        )
    return result.rowcount == 1


def _agent_with_token_select(_shape: None) -> sa.Select[tuple[int, str, str]]:
    return (
        sa.select(agents.c.id, agents.c.email, agents.c.name)
        .join(api_tokens, api_tokens.c.agent_id == agents.c.id)
        .where(
            api_tokens.c.token_hash == sa.bindparam("token_hash"),
            api_tokens.c.revoked_at.is_(None),
            agents.c.active.is_(True),
        )
    )


async def agent_with_token(engine: AsyncEngine, token: str) -> Agent | None:
    """The active agent holding this unrevoked token, in one statement (asked on every request,
    so revoking a token or deactivating its agent takes effect at once)."""
    rows = await prepared.fetch(
        engine, _agent_with_token_select, None, {"token_hash": _digest(token)}
    )
    return Agent(id=rows[0][0], email=rows[0][1], name=rows[0][2]) if rows else None
