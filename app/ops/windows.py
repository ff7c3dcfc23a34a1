"""Fixed-window counters, in process or shared by all workers through Redis.

Used for failed logins (refuse after N failures in a window) and for request rate limits
(refuse the (N+1)-th request of a window). Counts live for one window, then start again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from app.redis_calls import redis_call


@dataclass(frozen=True)
class Window:
    count: int
    seconds_left: int


class WindowCounter(Protocol):
    async def peek(self, key: str) -> Window: ...

    async def add(self, key: str) -> Window: ...


class MemoryWindowCounter:
    def __init__(self, window: int) -> None:
        self._window = window
        self._counts: dict[str, tuple[float, int]] = {}

    def _current(self, key: str) -> tuple[float, int]:
        now = time.monotonic()
        started, count = self._counts.get(key, (now, 0))
        if now - started >= self._window:
            started, count = now, 0
        if len(self._counts) > 100_000:  # keys of windows long gone
            self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self._window}
        return started, count

    def _window_of(self, started: float, count: int) -> Window:
        return Window(count, max(1, int(started + self._window - time.monotonic()) + 1))

    async def peek(self, key: str) -> Window:
        return self._window_of(*self._current(key))

    async def add(self, key: str) -> Window:
        started, count = self._current(key)
        self._counts[key] = (started, count + 1)
        return self._window_of(started, count + 1)


class RedisWindowCounter:
    def __init__(self, redis: Redis, *, window: int, prefix: str) -> None:
        self._redis = redis
        self._window = window
        self._prefix = prefix

    async def peek(self, key: str) -> Window:
        pipeline = self._redis.pipeline()
        pipeline.get(self._prefix + key)
        pipeline.ttl(self._prefix + key)
        async with redis_call():
            count, ttl = await pipeline.execute()
        return Window(int(count or 0), max(1, int(ttl)))

    async def add(self, key: str) -> Window:
        pipeline = self._redis.pipeline()
        pipeline.incr(self._prefix + key)
        pipeline.expire(self._prefix + key, self._window, nx=True)
        pipeline.ttl(self._prefix + key)
        async with redis_call():
            count, _, ttl = await pipeline.execute()
        return Window(int(count), max(1, int(ttl)))
