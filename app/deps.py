"""The only reader of the app's lifespan state, and the per-request dependencies built on it.

Every data route depends on `history_service`, which depends on `current_agent`: a request
without a valid session or API token never reaches a source.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from app.auth.agents import Agent
from app.auth.authenticate import Authenticator
from app.auth.login import LoginThrottle
from app.auth.stores import SessionStore
from app.config import Settings
from app.errors import RateLimited
from app.history.loaders import Loaders, Sources
from app.history.service import HistoryService
from app.ops.rate_limits import Budget


@dataclass(frozen=True)
class Resources:
    """What the lifespan opens once and every request shares."""

    settings: Settings
    sources: Sources
    http: httpx.AsyncClient
    redis: Redis | None
    sessions: SessionStore
    authenticator: Authenticator
    login_throttle: LoginThrottle
    password_hashing: Executor
    request_budget: Budget


def resources(request: Request) -> Resources:
    found: Resources = request.app.state.resources
    return found


# Declared for the OpenAPI document; the raw headers are read with express-session's rules.
_session_cookie = APIKeyCookie(
    name="connect.sid", auto_error=False, description="The express-session cookie."
)
_api_token = HTTPBearer(auto_error=False, description="An API token from `create-token`.")


async def current_agent(
    request: Request,
    _cookie: Annotated[str | None, Security(_session_cookie)],
    _token: Annotated[HTTPAuthorizationCredentials | None, Security(_api_token)],
) -> Agent:
    """The agent behind the request's API token or session cookie (401 otherwise), within the
    rate limit of that session or token (429 otherwise)."""
    shared = resources(request)
    caller = await shared.authenticator.caller(request.headers)
    wait = await shared.request_budget.spend(caller.key)
    if wait is not None:
        budget = shared.request_budget
        raise RateLimited(
            f"Over {budget.amount} requests in {budget.window} s: try again in {wait} s.", wait
        )
    return caller.agent


async def history_service(
    request: Request, agent: Annotated[Agent, Depends(current_agent)]
) -> HistoryService:
    """A history service with fresh loaders, built inside the running loop for this request.

    It is async so that FastAPI runs it on the event loop, never in a worker thread.
    """
    return HistoryService(Loaders(resources(request).sources, agent.id), viewer=agent)
