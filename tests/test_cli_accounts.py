"""`history-gateway create-agent`, `create-token`, `revoke-token`, and `serve`'s refusal."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from app.cli import main
from app.db.migrate import upgrade
from app.main import create_app
from tests.conftest import gateway_settings, serving


async def test_agents_and_tokens_from_the_command_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    billing_url: str,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    await upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)

    def run(*argv: str) -> str:
        # asyncio.run inside the command needs a thread without a running loop.
        assert main(list(argv)) == 0
        return capsys.readouterr().out

    created = await asyncio.to_thread(
        run, "create-agent", "--email", "Ops@Example.org", "--name", "Ops", "--password", "pw-123"
    )
    issued = await asyncio.to_thread(
        run, "create-token", "--email", "ops@example.org", "--name", "ci"
    )
    match = re.fullmatch(r"token (\d+) \(shown once, store it now\): (hgw_\S+)\n", issued)
    assert created == "agent 1 <ops@example.org> created\n"
    assert match is not None
    token_id, token = match.groups()

    app = create_app(gateway_settings(url, billing_url))
    async with serving(app, token) as client:
        allowed = await client.post("/graphql", json={"query": "{ viewer { email } }"})
        revoked = await asyncio.to_thread(run, "revoke-token", token_id)
        refused = await client.post("/graphql", json={"query": "{ viewer { email } }"})

    assert allowed.json() == {"data": {"viewer": {"email": "ops@example.org"}}}
    assert revoked == f"token {token_id} revoked\n"
    assert refused.status_code == 401


def test_serve_refuses_to_start_without_session_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SESSION_SECRETS", raising=False)

    assert main(["serve", "--port", "1"]) == 2
    assert capsys.readouterr().err == (
        "configuration error: SESSION_SECRETS: required to serve "
        "(comma-separated, each at least 32 bytes; the first signs)\n"
    )


def test_short_secrets_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SESSION_SECRETS", "long-enough-secret-0123456789abcdef,short")

    assert main(["serve", "--port", "1"]) == 2
    assert "SESSION_SECRETS: Value error, every secret must be at least 32 bytes long" in (
        capsys.readouterr().err
    )
