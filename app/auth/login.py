"""Sessions the gateway issues itself when it runs alone: log in, log out.

The session is written in express-session's shape to the configured store, so an Express app
sharing the store and the secrets accepts it too, and the gateway reads it like any other.

Failed logins are throttled twice: per email, whatever the address (guessing one agent's
password from many machines), and per client address, whatever the email (trying one password
on many agents). Either budget spent answers 429 before any password is verified.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers

from app.auth.agents import Agent, agent_with_password
from app.auth.authenticate import Authenticator
from app.auth.cookies import new_session_id, serialize
from app.auth.stores import SessionData, SessionStore
from app.config import Settings
from app.errors import RateLimited, Unauthenticated
from app.ops.rate_limits import Budget


@dataclass(frozen=True)
class LoginThrottle:
    """Budgets of failed logins, per email and per client address."""

    per_email: Budget
    per_address: Budget


@dataclass(frozen=True)
class OpenedSession:
    agent: Agent
    cookie_value: str
    max_age: int


def session_data(settings: Settings, agent: Agent, expires_at: float) -> SessionData:
    """What express-session stores: the cookie's attributes, and the agent id at the user key."""
    data: SessionData = {
        "cookie": {
            "originalMaxAge": settings.session_ttl_seconds * 1000,
            "expires": datetime.fromtimestamp(expires_at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "secure": settings.cookie_secure,
            "httpOnly": True,
            "path": "/",
            "sameSite": "lax",
        }
    }
    *parents, last = settings.session_user_key.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = agent.id
    return data


async def log_in(
    *,
    settings: Settings,
    engine: AsyncEngine,
    store: SessionStore,
    throttle: LoginThrottle,
    hashing: Executor,
    email: str,
    password: str,
    client: str,
) -> OpenedSession:
    email_key = email.strip().lower()
    waits = [
        await throttle.per_email.exhausted(email_key),
        await throttle.per_address.exhausted(client),
    ]
    wait = max((seconds for seconds in waits if seconds is not None), default=None)
    if wait is not None:
        raise RateLimited(f"Too many failed logins: try again in {wait} s.", wait)
    agent = await agent_with_password(engine, email, password, hashing)
    if agent is None:
        await throttle.per_email.spend(email_key)
        await throttle.per_address.spend(client)
        raise Unauthenticated("Wrong email or password.")
    sid = new_session_id()
    expires_at = time.time() + settings.session_ttl_seconds
    await store.set(sid, session_data(settings, agent, expires_at), expires_at)
    return OpenedSession(
        agent, serialize(sid, settings.session_secrets[0]), settings.session_ttl_seconds
    )


async def log_out(authenticator: Authenticator, store: SessionStore, headers: Headers) -> None:
    """Ends the request's session, if it has a genuine one."""
    sid = authenticator.session_id(headers)
    if sid is not None:
        await store.destroy(sid)
