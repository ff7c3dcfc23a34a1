"""Redis calls whose failure means the shared store is down: SERVICE_UNAVAILABLE, never a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.exceptions import RedisError

from app.errors import ServiceUnavailable


@asynccontextmanager
async def redis_call() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:
        raise ServiceUnavailable("The session store is unavailable.") from error
