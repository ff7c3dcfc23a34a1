"""Configuration is validated at start-up, one clear line per mistake."""

from __future__ import annotations

import pytest

from app.cli import main
from app.config import ConfigurationError, load_settings


def test_postgres_urls_are_driven_by_asyncpg() -> None:
    settings = load_settings(database_url="postgresql://postgres@db/helpdesk")

    assert settings.database_url == "postgresql+asyncpg://postgres@db/helpdesk"


def test_every_mistake_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@db/helpdesk")
    monkeypatch.setenv("BILLING_DEADLINE_SECONDS", "-1")
    monkeypatch.setenv("BILLING_URL", "not a url")

    with pytest.raises(ConfigurationError) as raised:
        load_settings()

    assert raised.value.lines == [
        "configuration error: DATABASE_URL: Value error, only sqlite and postgresql databases "
        "are supported",
        "configuration error: BILLING_URL: Input should be a valid URL, "
        "relative URL without a base",
        "configuration error: BILLING_DEADLINE_SECONDS: Input should be greater than 0",
    ]


def test_the_command_refuses_to_start_with_bad_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "oracle://db")

    assert main(["migrate"]) == 2
    assert capsys.readouterr().err == (
        "configuration error: DATABASE_URL: Value error, only sqlite and postgresql databases "
        "are supported\n"
    )
