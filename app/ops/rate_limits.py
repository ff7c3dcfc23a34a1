"""Budgets of events per key and time window, counted with the `limits` library.

Counts live in process, or in Redis when `REDIS_URL` is set so that every worker and machine
shares them. A budget is one `limits` item (AMOUNT per WINDOW seconds) under a namespace of its
own, with one of two strategies:

- a sliding-window counter for requests per session or token: constant work per request;
- a moving window for failed logins: exact (every failure is a timestamp), and the counts are
  small.

A store that fails is the shared store being down: SERVICE_UNAVAILABLE (`app.redis_calls`).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from redis.asyncio import Redis

from app.redis_calls import redis_call

KEY_PREFIX = "history-gateway"


def budget_storage(redis: Redis | None) -> Storage:
    """Where budgets are counted: Redis (over the app's own connection pool) or this process."""
    if redis is None:
        return MemoryStorage()
    return RedisStorage(
        "async+redis://",
        implementation="redispy",
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # documented, untyped
        key_prefix=KEY_PREFIX,
    )


class Budget:
    """At most AMOUNT events per WINDOW seconds per key."""

    def __init__(self, limiter: RateLimiter, amount: int, window: int, namespace: str) -> None:
        self._limiter = limiter
        self._item = RateLimitItemPerSecond(amount, window, namespace=namespace)

    @classmethod
    def sliding(cls, storage: Storage, amount: int, window: int, namespace: str) -> Budget:
        return cls(SlidingWindowCounterRateLimiter(storage), amount, window, namespace)

    @classmethod
    def moving(cls, storage: Storage, amount: int, window: int, namespace: str) -> Budget:
        return cls(MovingWindowRateLimiter(storage), amount, window, namespace)

    @property
    def amount(self) -> int:
        return self._item.amount

    @property
    def window(self) -> int:
        return self._item.get_expiry()

    async def spend(self, key: str) -> int | None:
        """Count one event: None while within the budget, else the seconds until it is again."""
        async with redis_call():
            if await self._limiter.hit(self._item, key):
                return None
        return await self._seconds_left(key)

    async def exhausted(self, key: str) -> int | None:
        """Without counting: None while one more event fits, else the seconds until it does."""
        async with redis_call():
            if await self._limiter.test(self._item, key):
                return None
        return await self._seconds_left(key)

    async def _seconds_left(self, key: str) -> int:
        async with redis_call():
            stats = await self._limiter.get_window_stats(self._item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))
