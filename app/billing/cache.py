"""A short-lived cache of billing events per contract, shared across requests (off by default).

BILLING_CACHE_SECONDS > 0 turns it on: in process, or in Redis when REDIS_URL is set so that all
workers share it. Only complete answers are cached; a failed call is never remembered.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from pydantic import TypeAdapter
from redis.asyncio import Redis

from app.billing.schemas import Event
from app.ops.metrics import BILLING_CACHE_LOOKUPS
from app.redis_calls import redis_call

ContractEvents = dict[str, tuple[Event, ...]]

_EVENTS = TypeAdapter(list[Event])
MAX_MEMORY_ENTRIES = 10_000


class EventsCache(Protocol):
    async def get_many(self, contract_ids: Sequence[str]) -> ContractEvents:
        """The cached events of those contracts that are cached and fresh."""
        ...

    async def put_many(self, found: ContractEvents) -> None: ...


def _count(asked: int, found: int) -> None:
    BILLING_CACHE_LOOKUPS.labels("hit").inc(found)
    BILLING_CACHE_LOOKUPS.labels("miss").inc(asked - found)


class MemoryEventsCache:
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._entries: OrderedDict[str, tuple[float, tuple[Event, ...]]] = OrderedDict()

    async def get_many(self, contract_ids: Sequence[str]) -> ContractEvents:
        now = time.monotonic()
        found = {
            cid: entry[1]
            for cid in contract_ids
            if (entry := self._entries.get(cid)) is not None and entry[0] > now
        }
        _count(len(contract_ids), len(found))
        return found

    async def put_many(self, found: ContractEvents) -> None:
        expires = time.monotonic() + self._seconds
        for contract_id, events in found.items():
            self._entries[contract_id] = (expires, events)
            self._entries.move_to_end(contract_id)
        while len(self._entries) > MAX_MEMORY_ENTRIES:
            self._entries.popitem(last=False)


class RedisEventsCache:
    def __init__(
        self, redis: Redis, seconds: float, prefix: str = "history-gateway:events:"
    ) -> None:
        self._redis = redis
        self._milliseconds = max(1, int(seconds * 1000))
        self._prefix = prefix

    async def get_many(self, contract_ids: Sequence[str]) -> ContractEvents:
        async with redis_call():
            values = await self._redis.mget([self._prefix + cid for cid in contract_ids])
        found = {
            cid: tuple(_EVENTS.validate_json(value))
            for cid, value in zip(contract_ids, values, strict=True)
            if value is not None
        }
        _count(len(contract_ids), len(found))
        return found

    async def put_many(self, found: ContractEvents) -> None:
        pipeline = self._redis.pipeline()
        for contract_id, events in found.items():
            pipeline.set(
                self._prefix + contract_id,
                _EVENTS.dump_json(list(events), by_alias=True),
                px=self._milliseconds,
            )
        async with redis_call():
            await pipeline.execute()
