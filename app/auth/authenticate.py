"""Who is asking: an agent from an API token or an express-session cookie, or UNAUTHENTICATED.

Every refusal is the same `Unauthenticated`, so an answer does not tell a forged cookie from an
expired session. Nothing here logs a cookie, session id, token or secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers

from app.auth.agents import Agent, active_agent
from app.auth.cookies import MAX_COOKIE_VALUE, parse_cookie_header, unsign
from app.auth.stores import SessionData, SessionStore
from app.auth.tokens import agent_with_token
from app.db.access import read_connection
from app.errors import ErrorCode, GatewayError

REFUSAL = "A valid session or API token is required."


class Unauthenticated(GatewayError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(self) -> None:
        super().__init__(REFUSAL)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated agent, and a key for the credential it used (rate limits count per
    session or token); the key is a digest, never the credential itself."""

    agent: Agent
    key: str


def _credential_key(kind: str, secret: str) -> str:
    return f"{kind}:{hashlib.sha256(secret.encode()).hexdigest()[:24]}"


class Authenticator:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        store: SessionStore,
        cookie_name: str,
        secrets: Sequence[str],
        user_key: str,
    ) -> None:
        self._engine = engine
        self._store = store
        self._cookie_name = cookie_name
        self._secrets = list(secrets)
        self._user_path = user_key.split(".")

    async def caller(self, headers: Headers) -> Caller:
        authorization = headers.get("authorization")
        if authorization is not None:
            return await self._token_caller(authorization)
        sid = self.session_id(headers)
        if sid is None:
            raise Unauthenticated
        session = await self._store.get(sid)
        agent_id = _agent_id(session, self._user_path) if session is not None else None
        if agent_id is None:
            raise Unauthenticated
        async with read_connection(self._engine) as connection:
            agent = await active_agent(connection, agent_id)
        if agent is None:
            raise Unauthenticated
        return Caller(agent, _credential_key("session", sid))

    def session_id(self, headers: Headers) -> str | None:
        """The verified session id of the request's cookie, without asking the store."""
        cookies = parse_cookie_header("; ".join(headers.getlist("cookie")))
        value = cookies.get(self._cookie_name)
        if value is None or len(value) > MAX_COOKIE_VALUE:
            return None
        return unsign(value, self._secrets)

    async def _token_caller(self, authorization: str) -> Caller:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated
        agent = await agent_with_token(self._engine, token)
        if agent is None:
            raise Unauthenticated
        return Caller(agent, _credential_key("token", token))


def _agent_id(session: SessionData, path: Sequence[str]) -> int | None:
    """The agent id at the configured key: a number, a numeric string or an object with `id`."""
    value: Any = session
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
