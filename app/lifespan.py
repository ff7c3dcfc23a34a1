"""What the app opens at start-up and closes at shutdown: the one engine, HTTP client and Redis,
the rate-limit budgets and the thread pool that verifies passwords."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from app.auth.authenticate import Authenticator
from app.auth.login import LoginThrottle
from app.auth.stores import RedisSessionStore, SessionStore, SqlSessionStore
from app.billing.cache import EventsCache, MemoryEventsCache, RedisEventsCache
from app.billing.client import BillingClient, build_http_client
from app.config import Settings
from app.db.engine import create_engine
from app.deps import Resources
from app.history.loaders import Sources
from app.ops.gc_tuning import tune_for_serving
from app.ops.rate_limits import Budget, budget_storage

logger = logging.getLogger(__name__)

# Argon2 verifications at once per worker: each takes 64 MiB and about 200 ms of one core.
PASSWORD_HASHING_THREADS = 2


def lifespan_for(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.cookie_secure and not settings.trusted_proxies:
            logger.warning(
                "COOKIE_SECURE=true: browsers keep the login cookie only over HTTPS (or on "
                "localhost). Serve the gateway behind an HTTPS proxy, listed in TRUSTED_PROXIES "
                "so that its X-Forwarded-Proto is believed, or set COOKIE_SECURE=false."
            )
        engine = create_engine(settings)
        http = build_http_client(settings)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        sessions: SessionStore = (
            RedisSessionStore(redis, settings.session_redis_prefix)
            if settings.session_store == "redis" and redis is not None
            else SqlSessionStore(engine, settings.session_table)
        )
        budgets = budget_storage(redis)
        hashing = ThreadPoolExecutor(PASSWORD_HASHING_THREADS, thread_name_prefix="argon2")

        app.state.resources = Resources(
            settings=settings,
            sources=Sources(
                engine=engine,
                billing=BillingClient(http, settings),
                events_cache=_events_cache(settings, redis),
            ),
            http=http,
            redis=redis,
            sessions=sessions,
            authenticator=Authenticator(
                engine=engine,
                store=sessions,
                cookie_name=settings.session_cookie_name,
                secrets=settings.session_secrets,
                user_key=settings.session_user_key,
            ),
            login_throttle=LoginThrottle(
                per_email=Budget.moving(
                    budgets,
                    settings.login_max_failures,
                    settings.login_window_seconds,
                    "login-failures-per-email",
                ),
                per_address=Budget.moving(
                    budgets,
                    settings.login_max_failures_per_address,
                    settings.login_window_seconds,
                    "login-failures-per-address",
                ),
            ),
            password_hashing=hashing,
            request_budget=Budget.sliding(
                budgets,
                settings.rate_limit_requests,
                settings.rate_limit_window_seconds,
                "requests",
            ),
        )
        tune_for_serving()
        try:
            yield
        finally:
            hashing.shutdown(wait=False, cancel_futures=True)
            await http.aclose()
            if redis is not None:
                await redis.aclose()
            await engine.dispose()

    return lifespan


def _events_cache(settings: Settings, redis: Redis | None) -> EventsCache | None:
    if settings.billing_cache_seconds <= 0:
        return None
    if redis is not None:
        return RedisEventsCache(redis, settings.billing_cache_seconds)
    return MemoryEventsCache(settings.billing_cache_seconds)
