"""What the app opens at start-up and closes at shutdown: the one engine, HTTP client and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from app.auth.authenticate import Authenticator
from app.auth.stores import RedisSessionStore, SessionStore, SqlSessionStore
from app.billing.cache import EventsCache, MemoryEventsCache, RedisEventsCache
from app.billing.client import BillingClient, build_http_client
from app.config import Settings
from app.db.engine import create_engine
from app.deps import Resources
from app.history.loaders import Sources
from app.ops.gc_tuning import tune_for_serving
from app.ops.windows import MemoryWindowCounter, RedisWindowCounter, WindowCounter


def lifespan_for(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        http = build_http_client(settings)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        sessions: SessionStore = (
            RedisSessionStore(redis, settings.session_redis_prefix)
            if settings.session_store == "redis" and redis is not None
            else SqlSessionStore(engine, settings.session_table)
        )

        def counter(window: int, prefix: str) -> WindowCounter:
            if redis is None:
                return MemoryWindowCounter(window)
            return RedisWindowCounter(redis, window=window, prefix=f"history-gateway:{prefix}:")

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
            login_failures=counter(settings.login_window_seconds, "login-failures"),
            request_counts=counter(settings.rate_limit_window_seconds, "requests"),
        )
        tune_for_serving()
        try:
            yield
        finally:
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
