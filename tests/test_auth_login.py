"""Logging in and out, API tokens, the access log, and the browser rules (checklist D)."""

from __future__ import annotations

import json
from urllib.parse import unquote

import httpx
import pytest
import sqlalchemy as sa

from app.auth.cookies import parse_cookie_header, unsign
from app.auth.tokens import revoke_token
from app.db.tables import access_log, session_table
from app.main import create_app
from tests.conftest import (
    AGENT_PASSWORD,
    SESSION_SECRETS,
    Deployment,
    gateway_settings,
    new_agent,
    serving,
)
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory

VIEWER = {"query": "{ viewer { id email } }"}


async def login(deployment: Deployment, email: str, password: str) -> httpx.Response:
    return await deployment.anonymous.post(
        "/api/mind/auth/login", json={"email": email, "password": password}
    )


async def test_login_sets_an_express_session_cookie_that_opens_every_data_route(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    agent, _ = await new_agent(scratch.engine)
    ticket = await factory.ticket()

    response = await login(scratch, agent.email.upper(), AGENT_PASSWORD)

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "agent": {"id": agent.id, "email": agent.email, "name": agent.name},
    }
    set_cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "samesite=lax" in set_cookie.lower()
    assert "secure" not in attributes  # COOKIE_SECURE is off in these tests
    value = parse_cookie_header(set_cookie.split(";")[0])["connect.sid"]
    sid = unsign(value, SESSION_SECRETS[:1])
    assert sid is not None
    assert len(sid) == 32

    sessions = session_table("session")
    async with scratch.engine.connect() as connection:
        stored = (
            await connection.execute(
                sa.select(sa.cast(sessions.c.sess, sa.Text)).where(sessions.c.sid == sid)
            )
        ).scalar_one()
    assert json.loads(stored)["passport"] == {"user": agent.id}
    assert json.loads(stored)["cookie"]["httpOnly"] is True

    cookie = {"Cookie": set_cookie.split(";")[0]}
    rest = await scratch.anonymous.get(f"/api/mind/ticket/{ticket}/history", headers=cookie)
    graphql = await scratch.anonymous.post("/graphql", json=VIEWER, headers=cookie)
    assert rest.status_code == 200
    assert graphql.json() == {"data": {"viewer": {"id": agent.id, "email": agent.email}}}

    logout = await scratch.anonymous.post("/api/mind/auth/logout", headers=cookie)
    after = await scratch.anonymous.get(f"/api/mind/ticket/{ticket}/history", headers=cookie)
    assert logout.status_code == 200
    assert (
        'connect.sid=""' in logout.headers["set-cookie"]
        or "Max-Age=0" in logout.headers["set-cookie"]
    )
    assert after.status_code == 401


async def test_secure_cookies_when_configured(scratch: Deployment, billing_url: str) -> None:
    agent, _ = await new_agent(scratch.engine)
    settings = gateway_settings(scratch.database_url, billing_url, cookie_secure=True)
    async with serving(create_app(settings)) as client:
        response = await client.post(
            "/api/mind/auth/login", json={"email": agent.email, "password": AGENT_PASSWORD}
        )

    assert "; secure" in response.headers["set-cookie"].lower()


async def test_wrong_passwords_are_401_and_then_rate_limited(
    scratch: Deployment, billing_url: str
) -> None:
    agent, _ = await new_agent(scratch.engine)
    settings = gateway_settings(scratch.database_url, billing_url, login_max_failures=3)
    async with serving(create_app(settings)) as client:
        attempts = [
            await client.post(
                "/api/mind/auth/login", json={"email": agent.email, "password": f"guess{n}"}
            )
            for n in range(3)
        ]
        limited = await client.post(
            "/api/mind/auth/login", json={"email": agent.email, "password": AGENT_PASSWORD}
        )
        unknown = await client.post(
            "/api/mind/auth/login", json={"email": "nobody@example.org", "password": "x"}
        )

    assert [a.status_code for a in attempts] == [401, 401, 401]
    assert attempts[0].json() == {
        "success": False,
        "code": "UNAUTHENTICATED",
        "error": "Wrong email or password.",
    }
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 900
    assert unknown.status_code == 401


@pytest.mark.parametrize("body", [{}, {"email": "a@b.c"}, {"email": 5, "password": []}])
async def test_malformed_logins_are_400(scratch: Deployment, body: dict[str, object]) -> None:
    response = await scratch.anonymous.post("/api/mind/auth/login", json=body)

    assert response.status_code == 400
    assert response.json()["code"] == "BAD_USER_INPUT"


async def test_api_tokens_work_until_revoked(scratch: Deployment, factory: Factory) -> None:
    agent, token = await new_agent(scratch.engine)
    ticket = await factory.ticket()
    path = f"/api/mind/ticket/{ticket}/history"
    bearer = {"Authorization": f"Bearer {token}"}

    before = await scratch.anonymous.get(path, headers=bearer)
    async with scratch.engine.connect() as connection:
        token_id = (
            await connection.execute(
                sa.text("SELECT id FROM api_tokens WHERE agent_id = :a"), {"a": agent.id}
            )
        ).scalar_one()
    assert await revoke_token(scratch.engine, token_id)
    after = await scratch.anonymous.get(path, headers=bearer)
    wrong_scheme = await scratch.anonymous.get(path, headers={"Authorization": f"Basic {token}"})

    assert before.status_code == 200
    assert after.status_code == 401
    assert wrong_scheme.status_code == 401


async def test_every_data_route_needs_credentials(scratch: Deployment, factory: Factory) -> None:
    ticket = await factory.ticket()

    rest = await scratch.anonymous.get(f"/api/mind/ticket/{ticket}/history")
    rest_bad_input = await scratch.anonymous.get("/api/mind/ticket/abc/history?limit=0")
    graphql = await scratch.anonymous.post("/graphql", json=VIEWER)
    graphiql = await scratch.anonymous.get("/graphql", headers={"Accept": "text/html"})

    assert rest.status_code == 401
    assert rest_bad_input.status_code == 401
    assert graphql.status_code == 401
    assert graphql.json() == {
        "errors": [
            {
                "message": "A valid session or API token is required.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
    assert graphiql.status_code == 303
    assert graphiql.headers["location"] == "/login?next=/graphql"
    login_page = await scratch.anonymous.get("/login")
    assert login_page.status_code == 200
    assert "script-src 'self'" in login_page.headers["Content-Security-Policy"]


async def test_every_history_read_is_in_the_access_log(
    scratch: Deployment, factory: Factory, billing: BillingAdmin
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    first = await factory.ticket(contract_id=contract, customer_id=customer)
    second = await factory.ticket(contract_id=contract, customer_id=customer)

    await scratch.client.get(f"/api/mind/ticket/{first}/history", headers={"X-Request-ID": "r-1"})
    await scratch.client.post(
        "/graphql",
        json={
            "query": "query($ids: [Int!]!, $c: ID!) { tickets(ids: $ids) { history { totalCount } }"
            " contract(id: $c) { history(first: 1) { totalCount } } }",
            "variables": {"ids": [first, second], "c": contract},
        },
        headers={"X-Request-ID": "r-2"},
    )

    async with scratch.engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(
                    access_log.c.agent_id,
                    access_log.c.ticket_id,
                    access_log.c.contract_id,
                    access_log.c.request_id,
                )
                .where(access_log.c.request_id.in_(["r-1", "r-2"]))
                .order_by(access_log.c.id)
            )
        ).all()
    agent = scratch.agent.id
    assert sorted(map(tuple, rows), key=str) == sorted(
        [
            (agent, first, None, "r-1"),
            (agent, first, None, "r-2"),
            (agent, second, None, "r-2"),
            (agent, None, contract, "r-2"),
        ],
        key=str,
    )


async def test_cors_answers_only_listed_origins(scratch: Deployment, billing_url: str) -> None:
    settings = gateway_settings(
        scratch.database_url, billing_url, cors_origins="https://app.example"
    )
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with serving(create_app(settings), scratch.token) as client:
        allowed = await client.options(
            "/graphql", headers={"Origin": "https://app.example", **preflight}
        )
        evil = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = await client.get(
            "/api/mind/ticket/1/history", headers={"Origin": "https://evil.example"}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in allowed.headers["vary"]
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_a_cross_site_form_post_with_a_session_cannot_run_graphql(
    scratch: Deployment,
) -> None:
    login_response = await login(scratch, scratch.agent.email, AGENT_PASSWORD)
    cookie = login_response.headers["set-cookie"].split(";")[0]

    response = await scratch.anonymous.post(
        "/graphql",
        content=b"query=%7B+viewer+%7B+id+%7D+%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )

    assert response.status_code == 400
    assert "data" not in response.json()
    assert unquote(cookie).startswith("connect.sid=s:")
