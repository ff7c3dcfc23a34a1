"""The Redis the tests use: logical database 15 of 127.0.0.1:6379, emptied at the start.

Required when REQUIRE_REDIS=1 (CI); otherwise its tests are skipped, saying why.
"""

from __future__ import annotations

import os

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def fresh_redis() -> Redis:
    redis = Redis.from_url(REDIS_TEST_URL)
    try:
        await redis.flushdb()
    except (RedisError, OSError) as error:
        await redis.aclose()
        reason = f"Redis at {REDIS_TEST_URL} is unreachable: {error.__class__.__name__}"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason} (REQUIRE_REDIS=1)")
        pytest.skip(reason)
    return redis
