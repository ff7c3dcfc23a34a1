"""express-session cookies accepted exactly as Express accepts them, on both session stores
(security.md checklist A), with sessions written by the real express-session as fixtures."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from app.auth.agents import create_agent
from app.auth.cookies import sign
from app.db.tables import agents, session_table
from app.main import create_app
from tests.conftest import (
    EXPRESS_FIXTURES,
    SESSION_SECRETS,
    Deployment,
    client_of,
    gateway_settings,
    serving,
)
from tests.support.factories import Factory
from tests.support.redis_server import REDIS_TEST_URL, fresh_redis

HOUR = 3600
REFUSED = {
    "success": False,
    "code": "UNAUTHENTICATED",
    "error": "A valid session or API token is required.",
}


@dataclass
class Sessions:
    """A gateway reading sessions from one store, and a way to put sessions in that store."""

    store: str
    client: httpx.AsyncClient
    deployment: Deployment
    redis: Redis
    ticket: int

    async def put(self, sid: str, sess: dict[str, Any] | str, *, ttl: int = HOUR) -> None:
        raw = sess if isinstance(sess, str) else json.dumps(sess)
        if self.store == "redis":
            if ttl > 0:
                await self.redis.set(f"sess:{sid}", raw, ex=ttl)
            return
        table = session_table("session")
        expire = datetime.fromtimestamp(time.time() + ttl, UTC).replace(tzinfo=None)
        async with self.deployment.engine.begin() as connection:
            await connection.execute(table.delete().where(table.c.sid == sid))
            await connection.execute(
                sa.text("INSERT INTO session (sid, sess, expire) VALUES (:sid, :sess, :expire)"),
                {"sid": sid, "sess": raw, "expire": expire},
            )

    async def get(self, cookie_header: str | None, path: str | None = None) -> httpx.Response:
        headers = {"Cookie": cookie_header} if cookie_header is not None else {}
        return await self.client.get(
            path or f"/api/mind/ticket/{self.ticket}/history", headers=headers
        )


def passport(agent_id: object) -> dict[str, Any]:
    return {"cookie": {"originalMaxAge": HOUR * 1000, "path": "/"}, "passport": {"user": agent_id}}


def cookie(sid: str, secret: str = SESSION_SECRETS[0]) -> str:
    return "connect.sid=" + quote(sign(sid, secret), safe="")


async def ensure_agents_up_to(engine: Any, last_id: int) -> None:
    """The fixtures' sessions name agents 1 to 3."""
    while True:
        async with engine.connect() as connection:
            highest = (await connection.execute(sa.select(sa.func.max(agents.c.id)))).scalar()
        if highest is not None and highest >= last_id:
            return
        await create_agent(
            engine, email=f"fixture{time.time_ns()}@example.org", name="F", password="x"
        )


@pytest.fixture(params=["sql", "redis"])
async def sessions(
    request: pytest.FixtureRequest, scratch: Deployment, factory: Factory, billing_url: str
) -> AsyncIterator[Sessions]:
    redis = await fresh_redis()
    await ensure_agents_up_to(scratch.engine, 3)
    settings = gateway_settings(
        scratch.database_url, billing_url, session_store=request.param, redis_url=REDIS_TEST_URL
    )
    ticket = await factory.ticket()
    app = create_app(settings)
    async with LifespanManager(app) as manager, client_of(manager.app) as client:
        yield Sessions(request.param, client, scratch, redis, ticket)
    await redis.aclose()


async def test_a1_a2_valid_cookies_signed_with_any_configured_secret(sessions: Sessions) -> None:
    await sessions.put("a1-session-id-0123456789abcdefghi", passport(1))

    current = await sessions.get(cookie("a1-session-id-0123456789abcdefghi", SESSION_SECRETS[0]))
    rotated = await sessions.get(cookie("a1-session-id-0123456789abcdefghi", SESSION_SECRETS[1]))
    removed = await sessions.get(cookie("a1-session-id-0123456789abcdefghi", "x" * 40))

    assert current.status_code == 200
    assert current.json()["success"] is True
    assert rotated.status_code == 200
    assert (removed.status_code, removed.json()) == (401, REFUSED)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda value: value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:],
        lambda value: value + "=",
        lambda value: value + ".garbage",
        lambda value: "garbage." + value,
        lambda value: value.replace("s:", "", 1),
        lambda _value: "",
        lambda value: value.split(".")[0],
    ],
    ids=["flipped", "padded", "suffixed", "prefixed", "unsigned", "empty", "no-dot"],
)
async def test_a3_a4_forged_or_unsigned_cookies_are_refused_without_a_store_lookup(
    sessions: Sessions, mutate: Any
) -> None:
    await sessions.put("a3-session-id-0123456789abcdefghi", passport(1))
    value = mutate(sign("a3-session-id-0123456789abcdefghi", SESSION_SECRETS[0]))

    response = await sessions.get("connect.sid=" + quote(value, safe=""))

    assert (response.status_code, response.json()) == (401, REFUSED)
    assert response.headers["X-SQL-Statements"] == "0"


async def test_a4_missing_cookie_and_a_new_anonymous_session_is_never_made(
    sessions: Sessions,
) -> None:
    response = await sessions.get(None)

    assert (response.status_code, response.json()) == (401, REFUSED)
    assert "set-cookie" not in response.headers


async def test_a5_raw_and_encoded_forms_both_work_and_bad_percent_is_401(
    sessions: Sessions,
) -> None:
    sid = "a5-session-id/with+plus0123456789"
    await sessions.put(sid, passport(1))
    signed = sign(sid, SESSION_SECRETS[0])

    raw = await sessions.get(f"connect.sid={signed}")
    encoded = await sessions.get("connect.sid=" + quote(signed, safe=""))
    quoted = await sessions.get(f'connect.sid="{quote(signed, safe="")}"')
    malformed = await sessions.get("connect.sid=" + quote(signed, safe="") + "%E0%A4%A")

    assert [raw.status_code, encoded.status_code, quoted.status_code] == [200, 200, 200]
    assert malformed.status_code == 401


async def test_a6_the_first_of_duplicate_cookies_wins(sessions: Sessions) -> None:
    sid = "a6-session-id-0123456789abcdefghi"
    await sessions.put(sid, passport(1))
    good, forged = cookie(sid), cookie(sid, "f" * 40)

    first_good = await sessions.get(f"{good}; {forged}")
    first_forged = await sessions.get(f"{forged}; {good}")

    assert first_good.status_code == 200
    assert first_forged.status_code == 401


async def test_a7_unknown_expired_or_unreadable_sessions_are_refused(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    await sessions.put("a7-expired-0123456789abcdefghijk", passport(1), ttl=-60)

    unknown = await sessions.get(cookie("a7-unknown-0123456789abcdefghijk"))
    expired = await sessions.get(cookie("a7-expired-0123456789abcdefghijk"))

    assert [unknown.status_code, expired.status_code] == [401, 401]


async def test_a7_an_unparsable_session_is_refused_and_logged(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    if sessions.store == "sql" and sessions.deployment.engine.dialect.name == "postgresql":
        # PostgreSQL's json column refuses it: no such session can exist there.
        with pytest.raises(sa.exc.DBAPIError, match="invalid input syntax for type json"):
            await sessions.put("a7-garbage-0123456789abcdefghijk", "{not json")
        return
    await sessions.put("a7-garbage-0123456789abcdefghijk", "{not json")

    garbage = await sessions.get(cookie("a7-garbage-0123456789abcdefghijk"))

    assert garbage.status_code == 401
    assert "not valid JSON" in caplog.text


@pytest.mark.parametrize(
    "user",
    [{"id": 2}, "2", 2],
    ids=["object", "string", "number"],
)
async def test_the_agent_id_may_be_a_number_a_string_or_an_object(
    sessions: Sessions, user: object
) -> None:
    await sessions.put("user-shape-0123456789abcdefghijk", passport(user))

    response = await sessions.get(cookie("user-shape-0123456789abcdefghijk"), path="/graphql")
    graphql = await sessions.client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Cookie": cookie("user-shape-0123456789abcdefghijk")},
    )

    assert response.status_code in (200, 400)  # GET /graphql without a page request
    assert graphql.json() == {"data": {"viewer": {"id": 2}}}


async def test_an_inactive_agent_is_refused(sessions: Sessions) -> None:
    async with sessions.deployment.engine.begin() as connection:
        await connection.execute(agents.update().where(agents.c.id == 3).values(active=False))
    await sessions.put("inactive-agent-0123456789abcdefg", passport(3))
    try:
        response = await sessions.get(cookie("inactive-agent-0123456789abcdefg"))
    finally:
        async with sessions.deployment.engine.begin() as connection:
            await connection.execute(agents.update().where(agents.c.id == 3).values(active=True))

    assert response.status_code == 401


async def test_a8_sessions_written_by_the_real_express_session_are_accepted(
    sessions: Sessions,
) -> None:
    cases = [
        case
        for case in EXPRESS_FIXTURES["cases"]
        if ("redis_key" in case) == (sessions.store == "redis")
    ]
    rows = {row["sid"]: row["sess"] for row in EXPRESS_FIXTURES["pg_session_rows"]}
    assert cases
    for case in cases:
        if sessions.store == "redis":
            await sessions.redis.set(case["redis_key"], json.dumps(case["redis_value"]), ex=HOUR)
        else:
            sid = case["cookie_header"].split("%3A", 1)[1].split(".", 1)[0]
            await sessions.put(sid, rows[sid])

        response = await sessions.client.post(
            "/graphql",
            json={"query": "{ viewer { id } }"},
            headers={"Cookie": case["cookie_header"]},
        )

        assert response.json() == {"data": {"viewer": {"id": case["agent_id"]}}}, case["name"]


async def test_a9_oversized_cookie_is_refused_without_a_store_lookup(sessions: Sessions) -> None:
    response = await sessions.get("connect.sid=s%3A" + "a" * 5000 + ".sig")

    assert response.status_code == 401
    assert response.headers["X-SQL-Statements"] == "0"


async def test_a10_an_unreachable_session_store_is_503_never_401(
    scratch: Deployment, billing_url: str, unreachable_database_url: str
) -> None:
    signed = cookie("a10-session-id-0123456789abcdefgh")
    redis_down = gateway_settings(
        scratch.database_url, billing_url, session_store="redis", redis_url="redis://127.0.0.1:1/0"
    )
    sql_down = gateway_settings(unreachable_database_url, billing_url)

    for settings in (redis_down, sql_down):
        async with serving(create_app(settings)) as client:
            rest = await client.get("/api/mind/ticket/1/history", headers={"Cookie": signed})
            graphql = await client.post(
                "/graphql", json={"query": "{ viewer { id } }"}, headers={"Cookie": signed}
            )
        assert rest.status_code == 503
        assert rest.json()["code"] == "SERVICE_UNAVAILABLE"
        assert graphql.status_code == 503
        assert graphql.json()["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
        assert "data" not in graphql.json()


async def test_a11_logs_never_show_cookies_session_ids_or_secrets(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    sid = "a11-secret-session-id-0123456789a"
    await sessions.put(sid, passport(1))
    # The gateway's own loggers at DEBUG, the libraries at INFO: at DEBUG, database drivers
    # log statement parameters (docs/operations.md says never to run them so).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="app")

    await sessions.get(cookie(sid))
    await sessions.get(cookie(sid, "forged-secret-forged-secret-forged"))
    await sessions.client.post("/api/mind/auth/login", json={"email": "x@y.z", "password": "pw1"})

    for secret_text in (sid, *SESSION_SECRETS, sign(sid, SESSION_SECRETS[0]), "pw1"):
        assert secret_text not in caplog.text
