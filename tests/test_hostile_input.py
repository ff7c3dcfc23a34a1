"""Hostile input: schemathesis fuzzes the REST OpenAPI document and the GraphQL schema.

Prototype.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from app.main import create_app
from tests.conftest import Deployment, gateway_settings

EXAMPLES = 60


@pytest.fixture
def gateway(scratch: Deployment, billing_url: str) -> FastAPI:
    return create_app(gateway_settings(scratch.database_url, billing_url))


@pytest.fixture
def auth(scratch: Deployment) -> dict[str, str]:
    return {"Authorization": f"Bearer {scratch.token}"}


@pytest.fixture
def rest_schema(gateway: FastAPI) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", gateway)
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    )
    schema.config.checks.update(
        included_check_names=[
            "not_a_server_error",
            "status_code_conformance",
            "response_schema_conformance",
        ]
    )
    return schema


rest = schemathesis.pytest.from_fixture("rest_schema")


@rest.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_rest(case: schemathesis.Case, auth: dict[str, str]) -> None:
    case.call_and_validate(headers=auth)
