"""What the app opens at start-up and closes at shutdown: the one engine, HTTP client and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from app.auth.authenticate import Authenticator
from app.auth.stores import RedisSessionStore, SessionStore, SqlSessionStore
from app.auth.throttle import MemoryThrottle, RedisThrottle, Throttle
from app.billing.client import BillingClient, build_http_client
from app.config import Settings
from app.db.engine import create_engine
from app.deps import Resources
from app.history.loaders import Sources


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
        login_throttle: Throttle = (
            RedisThrottle(
                redis,
                limit=settings.login_max_failures,
                window=settings.login_window_seconds,
                prefix="history-gateway:login:",
            )
            if redis is not None
            else MemoryThrottle(
                limit=settings.login_max_failures, window=settings.login_window_seconds
            )
        )
        app.state.resources = Resources(
            settings=settings,
            sources=Sources(engine=engine, billing=BillingClient(http, settings)),
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
            login_throttle=login_throttle,
        )
        try:
            yield
        finally:
            await http.aclose()
            if redis is not None:
                await redis.aclose()
            await engine.dispose()

    return lifespan
