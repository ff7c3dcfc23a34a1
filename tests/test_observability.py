"""Metrics behind their token, one structured access-log line per request, request ids forwarded."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
from pythonjsonlogger.json import JsonFormatter

from app.main import create_app
from app.ops.logging import logging_config
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory, event

TOKEN = "metrics-token-0123456789"


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in exposition.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_count_requests_operations_billing_and_batches(
    scratch: Deployment, factory: Factory, billing: BillingAdmin, billing_url: str
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    await billing.set_events(contract, [event(992_001, 1_700_000_000)])
    ticket = await factory.ticket(contract_id=contract, customer_id=customer)
    settings = gateway_settings(scratch.database_url, billing_url, metrics_token=TOKEN)
    async with serving(create_app(settings), scratch.token) as client:
        before = await scrape(client)
        await client.get(f"/api/mind/ticket/{ticket}/history")
        await client.post(
            "/graphql",
            json={"query": "query Viewer { viewer { id } }", "operationName": "Viewer"},
        )
        after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    route = "/api/mind/ticket/{ticketId}/history"
    assert grew("history_gateway_http_requests_total", route=route, status="200") == 1
    assert grew("history_gateway_http_request_duration_seconds_count", route=route) == 1
    assert grew("history_gateway_graphql_operations_total", operation="Viewer") == 1
    assert grew("history_gateway_billing_calls_total", outcome="ok") == 1
    assert grew("history_gateway_loader_batch_size_count", loader="ticket_window") == 1
    assert "history_gateway_billing_breaker_state 0.0" in after
    assert "history_gateway_db_connections_in_use" in after


async def test_metrics_are_not_open_to_the_world(scratch: Deployment, billing_url: str) -> None:
    with_token = gateway_settings(scratch.database_url, billing_url, metrics_token=TOKEN)
    async with serving(create_app(with_token)) as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    async with serving(create_app(gateway_settings(scratch.database_url, billing_url))) as c:
        disabled = await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert disabled.status_code == 404


async def test_each_request_logs_one_structured_line_and_forwards_its_id(
    scratch: Deployment,
    factory: Factory,
    billing: BillingAdmin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    ticket = await factory.ticket(contract_id=contract, customer_id=customer)
    caplog.set_level(logging.INFO, logger="app.access")

    await scratch.client.get(
        f"/api/mind/ticket/{ticket}/history", headers={"X-Request-ID": "trace-42"}
    )

    records = [r for r in caplog.records if r.name == "app.access"]
    line = json.loads(JsonFormatter().format(records[-1]))
    assert {key: line[key] for key in ("message", "request_id", "method", "route", "status")} == {
        "message": "request",
        "request_id": "trace-42",
        "method": "GET",
        "route": "/api/mind/ticket/{ticketId}/history",
        "status": 200,
    }
    assert line["sql_statements"] == 5  # token, ticket, window, counts, access log
    assert line["billing_calls"] == 1
    assert scratch.token not in json.dumps(line)
    assert await billing.last_request_id() == "trace-42"


def test_the_serve_logging_config_writes_json_lines() -> None:
    config = logging_config("INFO")
    formatter = JsonFormatter(
        **{k: v for k, v in config["formatters"]["json"].items() if k != "()"}
    )
    record = logging.LogRecord("app.access", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "r-1"

    line = json.loads(formatter.format(record))

    assert line["level"] == "INFO"
    assert line["logger"] == "app.access"
    assert line["request_id"] == "r-1"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []


async def test_a_client_gone_before_its_body_is_read_is_logged_as_499_not_an_error(
    scratch: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = scratch.client._transport.app  # type: ignore[attr-defined]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("gateway.test", 80),
        "headers": [
            (b"host", b"gateway.test"), (b"content-type", b"application/json"),
            (b"content-length", b"20"),
            (b"authorization", f"Bearer {scratch.token}".encode()),
        ],
    }  # fmt: skip
    await app(scope, receive, send)

    access = [r for r in caplog.records if r.name == "app.access"]
    assert sent == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert access[-1].status == 499  # type: ignore[attr-defined]
