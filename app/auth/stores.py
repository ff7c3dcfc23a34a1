"""Session stores shared with an Express app: connect-pg-simple's table or connect-redis's keys.

Both hold the session JSON express-session writes (`{"cookie": {...}, "passport": {"user": 1}}`).
The SQL store filters on `expire` itself, since connect-pg-simple prunes expired rows only every
15 minutes; on PostgreSQL it compares with `to_timestamp(now)` inside SQL, as connect-pg-simple
does, so both sides read `expire` in the server's time zone. An unreachable store is
SERVICE_UNAVAILABLE, never a logged-out user.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.access import read_connection
from app.db.tables import session_table
from app.redis_calls import redis_call

logger = logging.getLogger(__name__)

SessionData = dict[str, Any]


class SessionStore(Protocol):
    async def get(self, sid: str) -> SessionData | None: ...

    async def set(self, sid: str, session: SessionData, expires_at: float) -> None: ...

    async def destroy(self, sid: str) -> None: ...


def _naive_utc(unix_seconds: float) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC).replace(tzinfo=None)


class SqlSessionStore:
    def __init__(self, engine: AsyncEngine, table_name: str) -> None:
        self._engine = engine
        self._table = session_table(table_name)
        self._postgres = engine.dialect.name == "postgresql"

    def _expire_at(self, unix_seconds: float) -> sa.ColumnElement[Any]:
        if self._postgres:
            return sa.func.to_timestamp(unix_seconds)
        return sa.literal(_naive_utc(unix_seconds), sa.DateTime())

    async def get(self, sid: str) -> SessionData | None:
        statement = sa.select(sa.cast(self._table.c.sess, sa.Text)).where(
            self._table.c.sid == sid, self._table.c.expire >= self._expire_at(time.time())
        )
        async with read_connection(self._engine) as connection:
            raw = (await connection.execute(statement)).scalar_one_or_none()
        return _session_from_json(raw) if raw is not None else None

    async def set(self, sid: str, session: SessionData, expires_at: float) -> None:
        insert = postgresql.insert if self._postgres else sqlite.insert
        statement = insert(self._table).values(
            sid=sid, sess=session, expire=self._expire_at(expires_at)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[self._table.c.sid],
            set_={"sess": statement.excluded.sess, "expire": statement.excluded.expire},
        )
        async with _writing(self._engine) as connection:
            await connection.execute(statement)

    async def destroy(self, sid: str) -> None:
        async with _writing(self._engine) as connection:
            await connection.execute(self._table.delete().where(self._table.c.sid == sid))


@asynccontextmanager
async def _writing(engine: AsyncEngine) -> AsyncIterator[Any]:
    async with read_connection(engine) as connection, connection.begin():
        yield connection


class RedisSessionStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def get(self, sid: str) -> SessionData | None:
        async with redis_call():
            raw = await self._redis.get(self._prefix + sid)
        return _session_from_json(raw) if raw is not None else None

    async def set(self, sid: str, session: SessionData, expires_at: float) -> None:
        ttl = max(1, int(expires_at - time.time()))
        async with redis_call():
            await self._redis.set(self._prefix + sid, json.dumps(session), ex=ttl)

    async def destroy(self, sid: str) -> None:
        async with redis_call():
            await self._redis.delete(self._prefix + sid)


def _session_from_json(raw: str | bytes) -> SessionData | None:
    try:
        session = json.loads(raw)
    except ValueError:
        logger.warning("a stored session is not valid JSON; treated as no session")
        return None
    return session if isinstance(session, dict) else None
