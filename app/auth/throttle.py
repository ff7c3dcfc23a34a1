"""Failed-login counting per client and email, in process or shared through Redis.

Fixed windows: after `limit` failures within `window` seconds the key is refused until the
window ends. With REDIS_URL set, all workers share the counts.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis

from app.auth.stores import redis_call


class Throttle(Protocol):
    async def retry_after(self, key: str) -> int | None:
        """Seconds until the key may try again, or None when it may now."""
        ...

    async def failed(self, key: str) -> None: ...


class MemoryThrottle:
    def __init__(self, *, limit: int, window: int) -> None:
        self._limit = limit
        self._window = window
        self._counts: dict[str, tuple[float, int]] = {}

    def _current(self, key: str) -> tuple[float, int]:
        started, count = self._counts.get(key, (0.0, 0))
        if time.monotonic() - started >= self._window:
            return time.monotonic(), 0
        return started, count

    async def retry_after(self, key: str) -> int | None:
        started, count = self._current(key)
        if count < self._limit:
            return None
        return max(1, int(started + self._window - time.monotonic()) + 1)

    async def failed(self, key: str) -> None:
        started, count = self._current(key)
        self._counts[key] = (started, count + 1)


class RedisThrottle:
    def __init__(self, redis: Redis, *, limit: int, window: int, prefix: str) -> None:
        self._redis = redis
        self._limit = limit
        self._window = window
        self._prefix = prefix

    async def retry_after(self, key: str) -> int | None:
        async with redis_call():
            count = await self._redis.get(self._prefix + key)
            if count is None or int(count) < self._limit:
                return None
            ttl = await self._redis.ttl(self._prefix + key)
        return max(1, int(ttl))

    async def failed(self, key: str) -> None:
        async with redis_call():
            count = await self._redis.incr(self._prefix + key)
            if count == 1:
                await self._redis.expire(self._prefix + key, self._window)
