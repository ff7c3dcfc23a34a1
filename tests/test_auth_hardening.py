"""Logins an attacker would try: password spraying, one account from many addresses, forged
`X-Forwarded-For`, a login flood, and an open redirect through `next`.

Failed logins are throttled per email (across addresses) and per client address (across
emails), shared through Redis; client addresses come from `X-Forwarded-For` only when the peer
is in TRUSTED_PROXIES; passwords are verified in a bounded thread pool, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.auth import agents
from app.main import create_app
from app.web.pages import is_same_origin_path
from tests.conftest import AGENT_PASSWORD, Deployment, gateway_settings, new_agent, serving
from tests.support.redis_server import REDIS_TEST_URL, fresh_redis

LOGIN = "/api/mind/auth/login"


@asynccontextmanager
async def gateway(
    scratch: Deployment, billing_url: str, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(
        create_app(gateway_settings(scratch.database_url, billing_url, **settings))
    ) as client:
        yield client


async def attempt(
    client: httpx.AsyncClient, email: str, password: str, forwarded_for: str | None = None
) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = await client.post(
        LOGIN, json={"email": email, "password": password}, headers=headers
    )
    return response.status_code


async def test_a_password_spray_from_one_address_is_throttled_across_emails(
    scratch: Deployment, billing_url: str
) -> None:
    agent, _ = await new_agent(scratch.engine)
    async with gateway(scratch, billing_url) as client:
        sprayed = [
            await attempt(client, f"victim{n}@example.org", "Sommer2026!") for n in range(10)
        ]
        # Even the right password of a real agent waits until the address's window passes.
        after = await attempt(client, agent.email, AGENT_PASSWORD)

    assert sprayed == [401] * 10
    assert after == 429


async def test_one_account_from_many_addresses_is_throttled_across_addresses(
    scratch: Deployment, billing_url: str
) -> None:
    agent, _ = await new_agent(scratch.engine)
    async with gateway(scratch, billing_url, trusted_proxies="127.0.0.1") as client:
        guesses = [
            await attempt(client, agent.email, f"guess{n}", forwarded_for=f"198.51.100.{n}")
            for n in range(5)
        ]
        after = await attempt(client, agent.email, AGENT_PASSWORD, forwarded_for="203.0.113.9")
        elsewhere = await attempt(client, "other@example.org", "x", forwarded_for="203.0.113.9")

    assert guesses == [401] * 5
    assert after == 429
    assert elsewhere == 401  # that address has one failure of ten


async def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(
    scratch: Deployment, billing_url: str
) -> None:
    async with gateway(scratch, billing_url) as client:
        statuses = [
            await attempt(client, f"spray{n}@example.org", "x", forwarded_for=f"192.0.2.{n}")
            for n in range(11)
        ]

    assert statuses == [401] * 10 + [429]


async def test_a_trusted_proxy_gives_the_client_address_and_scheme(
    scratch: Deployment, billing_url: str
) -> None:
    async with gateway(
        scratch, billing_url, trusted_proxies="10.0.0.0/8,127.0.0.1", cookie_secure=True
    ) as client:
        # Behind a TLS proxy the login page knows the browser came over HTTPS.
        page = await client.get(
            "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"}
        )

    assert page.status_code == 200
    assert '<p id="insecure" hidden' in page.text


async def test_login_throttles_are_shared_through_redis(
    scratch: Deployment, billing_url: str
) -> None:
    redis = await fresh_redis()
    await redis.aclose()
    async with (
        gateway(scratch, billing_url, redis_url=REDIS_TEST_URL) as first,
        gateway(scratch, billing_url, redis_url=REDIS_TEST_URL) as second,
    ):
        statuses = [
            await attempt(first if n % 2 else second, f"shared{n}@example.org", "x")
            for n in range(11)
        ]

    assert statuses == [401] * 10 + [429]


async def test_passwords_are_verified_in_the_bounded_pool_off_the_event_loop(
    scratch: Deployment, billing_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent, _ = await new_agent(scratch.engine)
    threads: list[str] = []
    verify = agents._verify

    def recording_verify(stored: str | None, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return verify(stored, password)

    monkeypatch.setattr(agents, "_verify", recording_verify)
    async with gateway(scratch, billing_url, login_max_failures_per_address=100) as client:
        statuses = await asyncio.gather(
            *(attempt(client, agent.email, AGENT_PASSWORD) for _ in range(4)),
            *(attempt(client, f"flood{n}@example.org", "x") for n in range(4)),
        )

    assert sorted(statuses) == [200] * 4 + [401] * 4
    assert len(threads) == 8
    assert {name.rsplit("_", 1)[0] for name in threads} == {"argon2"}
    assert len(set(threads)) <= 2  # PASSWORD_HASHING_THREADS


async def test_an_agent_without_a_password_cannot_log_in_with_the_placeholder(
    scratch: Deployment,
) -> None:
    agent, _ = await new_agent(scratch.engine)
    async with scratch.engine.begin() as connection:
        await connection.execute(
            agents.agents.update().where(agents.agents.c.id == agent.id).values(password_hash=None)
        )

    status = await attempt(scratch.anonymous, agent.email, "no agent has this password")

    assert status == 401


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example/phish",
        "/%0a/evil.example",
        "/%0d/evil.example",
        "//evil.example",
        "/%2F/evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "/%2509/evil.example",
    ],
)
async def test_a_next_page_off_the_site_is_dropped(scratch: Deployment, target: str) -> None:
    response = await scratch.anonymous.get(f"/login?next={target}")

    assert response.status_code == 303
    assert response.headers["location"] == "/login"


@pytest.mark.parametrize("target", ["/", "/graphql", "/?ticket=2", "/%3Fticket%3D2"])
async def test_a_next_page_of_the_site_is_kept(scratch: Deployment, target: str) -> None:
    response = await scratch.anonymous.get(f"/login?next={target}")

    assert response.status_code == 200
    assert '<form id="login">' in response.text


@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="/\\%:.@?#09aAcCdDfF \t\r\n\x00", max_size=20).map("/".__add__),
    )
)
def test_an_accepted_next_page_never_leaves_the_site(target: str) -> None:
    if not is_same_origin_path(target):
        return
    origin = "https://gateway.example"
    # urljoin drops tab, CR and LF as browsers do; browsers read a backslash as a slash.
    for form in (target, unquote(target)):
        resolved = urlsplit(urljoin(origin + "/login", form.replace("\\", "/")))
        assert (resolved.scheme, resolved.netloc) == ("https", "gateway.example"), form


@pytest.mark.parametrize(
    ("base_url", "shown"),
    [
        ("http://gateway.example", True),
        ("https://gateway.example", False),
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
    ],
)
async def test_the_login_page_warns_when_the_secure_cookie_would_be_dropped(
    scratch: Deployment, billing_url: str, base_url: str, shown: bool
) -> None:
    async with gateway(scratch, billing_url, cookie_secure=True) as client:
        page = await client.get(f"{base_url}/login")

    assert ('<p id="insecure" role="status">' in page.text) is shown
    assert ('<p id="insecure" hidden role="status">' in page.text) is not shown


async def test_secure_cookies_without_a_trusted_proxy_are_warned_about_at_start(
    scratch: Deployment, billing_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        async with gateway(scratch, billing_url, cookie_secure=True):
            pass
        async with gateway(scratch, billing_url, cookie_secure=False):
            pass

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("COOKIE_SECURE=true: browsers keep the login cookie only")
