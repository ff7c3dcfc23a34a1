"""Settings read from the environment (design §3), validated once at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEMO_BILLING_API_KEY = "demo-billing-key"


class Settings(BaseSettings):
    """Every knob of the gateway; build one per app (never at import time)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/helpdesk.db"
    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 20
    db_pool_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    db_statement_timeout_ms: Annotated[int, Field(ge=0)] = 3000

    billing_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8001")
    billing_api_key: Annotated[str, Field(min_length=1)] = DEMO_BILLING_API_KEY
    billing_connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.5
    billing_deadline_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    billing_max_response_bytes: Annotated[int, Field(ge=1024)] = 5 * 1024 * 1024
    billing_retry_backoff_seconds: Annotated[float, Field(ge=0, le=10)] = 0.05
    billing_retry_after_cap_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0
    billing_retry_budget_ratio: Annotated[float, Field(ge=0, le=1)] = 0.2
    billing_breaker_failures: Annotated[int, Field(ge=1)] = 5
    billing_breaker_open_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    billing_max_concurrency: Annotated[int, Field(ge=1, le=1000)] = 20
    billing_queue_wait_seconds: Annotated[float, Field(ge=0, le=60)] = 0.1
    billing_cache_seconds: Annotated[float, Field(ge=0, le=3600)] = 0.0
    billing_transport: Literal["aiohttp", "httpcore"] = "aiohttp"

    debug_counters: bool = False

    session_secrets: Annotated[list[str], NoDecode] = []
    session_store: Literal["sql", "redis"] = "sql"
    session_user_key: str = "passport.user"
    session_cookie_name: str = "connect.sid"
    session_table: str = "session"
    session_redis_prefix: str = "sess:"
    session_ttl_seconds: Annotated[int, Field(ge=60)] = 86_400
    cookie_secure: bool = True
    redis_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = []
    trusted_proxies: Annotated[list[str], NoDecode] = []
    login_max_failures: Annotated[int, Field(ge=1)] = 5
    login_max_failures_per_address: Annotated[int, Field(ge=1)] = 10
    login_window_seconds: Annotated[int, Field(ge=1)] = 900
    rate_limit_requests: Annotated[int, Field(ge=1)] = 600
    rate_limit_window_seconds: Annotated[int, Field(ge=1)] = 60
    request_deadline_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    shutdown_grace_seconds: Annotated[float, Field(ge=0, le=600)] = 10.0
    metrics_token: Annotated[str, Field(min_length=16)] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    graphiql: bool = True
    introspection: bool = True
    graphql_max_depth: Annotated[int, Field(ge=2, le=50)] = 10
    graphql_max_aliases: Annotated[int, Field(ge=0, le=1000)] = 15
    graphql_max_tokens: Annotated[int, Field(ge=100, le=100_000)] = 2000
    graphql_max_cost: Annotated[int, Field(ge=1)] = 50_000
    graphql_max_field_repeats: Annotated[int, Field(ge=1, le=1000)] = 20
    graphql_max_variable_values: Annotated[int, Field(ge=10)] = 1000
    graphql_compiled_plans: bool = True
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    assets_dir: Path = Path(__file__).resolve().parent.parent / "node_modules"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept the usual URL spellings and pin each to its async driver."""
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise ValueError("must be a URL such as sqlite+aiosqlite:///./var/helpdesk.db")
        drivers = {
            "sqlite": "sqlite+aiosqlite",
            "sqlite+aiosqlite": "sqlite+aiosqlite",
            "postgres": "postgresql+asyncpg",
            "postgresql": "postgresql+asyncpg",
            "postgresql+asyncpg": "postgresql+asyncpg",
        }
        if scheme not in drivers:
            raise ValueError("only sqlite and postgresql databases are supported")
        return f"{drivers[scheme]}://{rest}"

    @field_validator("session_secrets", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("session_secrets")
    @classmethod
    def _strong_secrets(cls, secrets: list[str]) -> list[str]:
        if any(len(secret.encode()) < 32 for secret in secrets):
            raise ValueError("every secret must be at least 32 bytes long")
        return secrets

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return proxies

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, origins: list[str]) -> list[str]:
        if "*" in origins:
            raise ValueError("list the allowed origins: '*' would share credentials with anyone")
        return origins

    @model_validator(mode="after")
    def _redis_store_needs_redis(self) -> Settings:
        if self.session_store == "redis" and not self.redis_url:
            raise ValueError("SESSION_STORE=redis needs REDIS_URL")
        return self

    @model_validator(mode="after")
    def _graphiql_needs_introspection(self) -> Settings:
        if self.graphiql and not self.introspection:
            raise ValueError("GRAPHIQL=true needs INTROSPECTION=true (GraphiQL reads the schema)")
        return self

    def check_serving(self) -> None:
        """What serving needs beyond what migrating or seeding does."""
        if not self.session_secrets:
            raise ConfigurationError(
                [
                    "configuration error: SESSION_SECRETS: required to serve "
                    "(comma-separated, each at least 32 bytes; the first signs)"
                ]
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class ConfigurationError(Exception):
    """Start-up refused: one line per mistake, naming the variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load_settings(**overrides: object) -> Settings:
    """Read the environment (plus explicit overrides) or raise ConfigurationError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = "_".join(str(part) for part in error["loc"]).upper()
            where = f"{variable}: " if variable else ""
            lines.append(f"configuration error: {where}{error['msg']}")
        raise ConfigurationError(lines) from None
