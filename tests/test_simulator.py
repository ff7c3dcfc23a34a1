"""The billing simulator over real HTTP: the API of design §5, every fault, and the admin routes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from app.billing.simulator.app import SimulatorConfig, create_simulator_app
from app.world.contracts import contract_profile, is_known_contract_id, make_contract_id
from tests.support.servers import serve_in_thread

SEED = 9
API_KEY = "test-billing-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
KNOWN = [make_contract_id(serial) for serial in range(1_000_001, 1_000_004)]
UNKNOWN = "10000017"


def wire_events(contract_id: str) -> list[dict[str, Any]]:
    return [e.model_dump(by_alias=True) for e in contract_profile(SEED, contract_id).events]


@pytest.fixture(scope="module")
def plain_url() -> Iterator[str]:
    with serve_in_thread(create_simulator_app(SimulatorConfig(seed=SEED, api_key=API_KEY))) as url:
        yield url


@pytest.fixture(scope="module")
def controlled_url() -> Iterator[str]:
    config = SimulatorConfig(seed=SEED, api_key=API_KEY, fault_control=True)
    with serve_in_thread(create_simulator_app(config)) as url:
        yield url


@pytest.fixture
async def plain(plain_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=plain_url, headers=AUTH, timeout=5) as client:
        yield client


@pytest.fixture
async def sim(controlled_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the fault-controlled simulator, reset before the test."""
    async with httpx.AsyncClient(base_url=controlled_url, headers=AUTH, timeout=5) as client:
        (await client.post("/admin/reset")).raise_for_status()
        yield client


async def set_faults(client: httpx.AsyncClient, **faults: object) -> dict[str, Any]:
    response = await client.post("/admin/faults", json=faults)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def batch_params(*contract_ids: str) -> httpx.QueryParams:
    return httpx.QueryParams([("contractId", contract_id) for contract_id in contract_ids])


async def test_health_needs_no_key(plain_url: str) -> None:
    async with httpx.AsyncClient(base_url=plain_url) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {API_KEY}", API_KEY])
@pytest.mark.parametrize(
    "path", ["/v1/events?contractId=10000016", "/v1/contracts/10000016/events"]
)
async def test_api_needs_the_bearer_key(
    plain_url: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(base_url=plain_url, headers=headers) as client:
        response = await client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": "missing or wrong bearer token"}


async def test_batch_answers_known_and_unknown_contracts(plain: httpx.AsyncClient) -> None:
    response = await plain.get("/v1/events", params=batch_params(*KNOWN, UNKNOWN, "C-1", KNOWN[0]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "events": {
            KNOWN[0]: wire_events(KNOWN[0]),
            KNOWN[1]: wire_events(KNOWN[1]),
            KNOWN[2]: wire_events(KNOWN[2]),
            UNKNOWN: [],
            "C-1": [],
        },
        "unknownContractIds": [UNKNOWN, "C-1"],
    }


async def test_events_use_the_wire_names_newest_first(plain: httpx.AsyncClient) -> None:
    events = (await plain.get(f"/v1/contracts/{KNOWN[0]}/events")).json()["events"]
    assert [list(event) for event in events] == [
        ["id", "kind", "subject", "counterpartRole", "occurredAt", "url"]
    ] * len(events)
    times = [event["occurredAt"] for event in events]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("count", [0, 101])
async def test_batch_takes_1_to_100_ids(plain: httpx.AsyncClient, count: int) -> None:
    ids = [make_contract_id(1_000_001 + n) for n in range(count)]
    response = await plain.get("/v1/events", params=batch_params(*ids))
    assert response.status_code == 400
    assert response.json() == {"error": "give between 1 and 100 contractId parameters"}


async def test_batch_of_100_ids_is_answered(plain: httpx.AsyncClient) -> None:
    ids = [make_contract_id(1_000_001 + n) for n in range(100)]
    body = (await plain.get("/v1/events", params=batch_params(*ids))).json()
    assert list(body["events"]) == ids
    assert body["unknownContractIds"] == []


async def test_single_contract(plain: httpx.AsyncClient) -> None:
    response = await plain.get(f"/v1/contracts/{KNOWN[1]}/events")
    assert response.status_code == 200
    assert response.json() == {"contractId": KNOWN[1], "events": wire_events(KNOWN[1])}


async def test_single_unknown_contract_is_404(plain: httpx.AsyncClient) -> None:
    assert not is_known_contract_id(UNKNOWN)
    response = await plain.get(f"/v1/contracts/{UNKNOWN}/events")
    assert response.status_code == 404
    assert response.json() == {"error": f"unknown contract {UNKNOWN}"}


async def test_admin_routes_are_404_without_fault_control(plain: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/admin/stats"),
        ("POST", "/admin/faults"),
        ("POST", "/admin/reset"),
        ("PUT", f"/admin/contracts/{UNKNOWN}/events"),
    ]:
        response = await plain.request(method, path, json={})
        assert response.status_code == 404
        assert response.json() == {"error": "Not Found"}


async def test_latency_is_added(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, latency_ms=200)
    started = time.monotonic()
    response = await sim.get(f"/v1/contracts/{KNOWN[0]}/events")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert 0.2 <= elapsed < 1.0


async def test_jitter_stays_within_its_bound(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, latency_ms=50, jitter_ms=100)
    for _ in range(3):
        started = time.monotonic()
        await sim.get(f"/v1/contracts/{KNOWN[0]}/events")
        assert 0.05 <= time.monotonic() - started < 0.6


@pytest.mark.parametrize(("status", "retry_after"), [(502, None), (429, "1")])
async def test_error_rate_one_always_fails(
    sim: httpx.AsyncClient, status: int, retry_after: str | None
) -> None:
    await set_faults(sim, error_rate=1, error_status=status)
    for _ in range(3):
        response = await sim.get("/v1/events", params=batch_params(KNOWN[0]))
        assert response.status_code == status
        assert response.json() == {"error": "injected fault"}
        assert response.headers.get("retry-after") == retry_after


async def test_error_decisions_replay_for_the_same_fault_set(sim: httpx.AsyncClient) -> None:
    runs = []
    for _ in range(2):
        await set_faults(sim, error_rate=0.5)
        statuses = [
            (await sim.get(f"/v1/contracts/{KNOWN[0]}/events")).status_code for _ in range(20)
        ]
        runs.append(statuses)
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


async def test_fail_next_counts_down(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, fail_next=2, error_status=504)
    statuses = [(await sim.get(f"/v1/contracts/{KNOWN[0]}/events")).status_code for _ in range(3)]
    assert statuses == [504, 504, 200]
    assert (await sim.get("/admin/faults")).json()["fail_next"] == 0


async def test_hang_never_answers(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, hang=True)
    with pytest.raises(httpx.ReadTimeout):
        await sim.get(f"/v1/contracts/{KNOWN[0]}/events", timeout=0.3)
    assert (await sim.get("/healthz")).status_code == 200
    await set_faults(sim)
    assert (await sim.get(f"/v1/contracts/{KNOWN[0]}/events")).status_code == 200


async def test_drip_is_slow_but_never_silent_for_long(sim: httpx.AsyncClient) -> None:
    path = f"/v1/contracts/{KNOWN[0]}/events"
    expected = (await sim.get(path)).content
    rate = round(len(expected) / 0.6)
    await set_faults(sim, drip_bytes_per_second=rate)
    started = time.monotonic()
    response = await sim.get(path, timeout=httpx.Timeout(5, read=0.3))
    elapsed = time.monotonic() - started
    assert response.content == expected
    assert elapsed >= len(expected) / rate - 0.1
    assert elapsed < 2.0


async def test_malformed_body_is_invalid_json(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, malformed=True)
    response = await sim.get("/v1/events", params=batch_params(*KNOWN))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_oversize_body_is_valid_json_of_at_least_the_size(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, oversize_bytes=1_000_000)
    response = await sim.get(f"/v1/contracts/{KNOWN[0]}/events")
    assert response.status_code == 200
    assert len(response.content) == 1_000_000
    assert "content-length" not in response.headers
    assert response.json() == {"contractId": KNOWN[0], "events": wire_events(KNOWN[0])}


async def test_reset_drops_the_connection_mid_body(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, reset=True)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await sim.get("/v1/events", params=batch_params(*KNOWN))


async def test_faults_spare_health_and_admin(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, error_rate=1)
    assert (await sim.get("/healthz")).status_code == 200
    assert (await sim.get("/admin/stats")).status_code == 200


async def test_posting_faults_replaces_the_whole_set(sim: httpx.AsyncClient) -> None:
    await set_faults(sim, latency_ms=10, malformed=True)
    assert await set_faults(sim, error_rate=0.25) == {
        "latency_ms": 0,
        "jitter_ms": 0,
        "error_rate": 0.25,
        "error_status": 503,
        "fail_next": 0,
        "hang": False,
        "drip_bytes_per_second": 0,
        "malformed": False,
        "oversize_bytes": 0,
        "reset": False,
        "framing": None,
    }


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"error_rate": 2}, "error_rate must be between 0 and 1"),
        ({"error_status": 200}, "error_status must be an HTTP error status (400-599)"),
        ({"latency_ms": -1}, "latency_ms must not be negative"),
        ({"hang": "yes"}, "hang has the wrong type"),
        ({"latency_ms": True}, "latency_ms has the wrong type"),
        ({"bogus": 1}, "unknown fault fields: bogus"),
        (
            {"framing": "wobbly"},
            "framing must be one of bad_status_line, short_body, cut_chunk, closed_after_headers",
        ),
        ({"framing": 1}, "framing has the wrong type"),
        ([], "expected a JSON object of fault fields"),
    ],
)
async def test_bad_fault_sets_are_refused(sim: httpx.AsyncClient, body: Any, error: str) -> None:
    await set_faults(sim, latency_ms=5)
    response = await sim.post("/admin/faults", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert (await sim.get("/admin/faults")).json()["latency_ms"] == 5


async def test_stats_count_every_api_request_and_reset_clears_them(
    sim: httpx.AsyncClient,
) -> None:
    await sim.get("/v1/events", params=batch_params(*KNOWN))
    await sim.get(f"/v1/contracts/{KNOWN[0]}/events")
    await sim.get("/v1/events", params=batch_params(*KNOWN[:2]), headers={"Authorization": ""})
    await set_faults(sim, fail_next=1)
    await sim.get(f"/v1/contracts/{UNKNOWN}/events", headers={"X-Request-ID": "req-7"})
    await sim.get("/healthz")
    assert (await sim.get("/admin/stats")).json() == {
        "requests": 4,
        "contractIdsRequested": 7,
        "lastRequestId": "req-7",
    }

    assert (await sim.post("/admin/reset")).json() == {"reset": True}
    assert (await sim.get("/admin/stats")).json() == {
        "requests": 0,
        "contractIdsRequested": 0,
        "lastRequestId": None,
    }
    assert (await sim.get("/admin/faults")).json()["fail_next"] == 0


async def test_admin_needs_the_bearer_key(controlled_url: str) -> None:
    async with httpx.AsyncClient(base_url=controlled_url) as client:
        response = await client.get("/admin/stats")
    assert response.status_code == 401


async def test_overridden_events_are_served_exactly(sim: httpx.AsyncClient) -> None:
    older = {
        "id": 7,
        "kind": "gridMessage",
        "subject": "deliveryStartConfirmed",
        "counterpartRole": "gridOperator",
        "occurredAt": 1660345921,
        "url": "https://powercloud.de/gridMessages/7",
    }
    newer = {
        "id": 8,
        "kind": "delivery",
        "subject": "deliveryStart",
        "counterpartRole": None,
        "occurredAt": 1660953600,
        "url": None,
    }
    crafted = "C-746839"
    response = await sim.put(f"/admin/contracts/{crafted}/events", json={"events": [older, newer]})
    assert response.json() == {"contractId": crafted, "events": [newer, older]}
    await sim.put(f"/admin/contracts/{KNOWN[0]}/events", json={"events": []})

    batch = (await sim.get("/v1/events", params=batch_params(crafted, KNOWN[0], KNOWN[1]))).json()
    assert batch == {
        "events": {crafted: [newer, older], KNOWN[0]: [], KNOWN[1]: wire_events(KNOWN[1])},
        "unknownContractIds": [],
    }
    single = (await sim.get(f"/v1/contracts/{crafted}/events")).json()
    assert single == {"contractId": crafted, "events": [newer, older]}

    await sim.post("/admin/reset")
    assert (await sim.get(f"/v1/contracts/{crafted}/events")).status_code == 404
    restored = (await sim.get(f"/v1/contracts/{KNOWN[0]}/events")).json()["events"]
    assert restored == wire_events(KNOWN[0])


@pytest.mark.parametrize("body", [{"events": [{"id": 1}]}, {"events": "none"}, {}, "not an object"])
async def test_bad_overrides_are_refused(sim: httpx.AsyncClient, body: Any) -> None:
    response = await sim.put(f"/admin/contracts/{KNOWN[0]}/events", json=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith('expected {"events": [Event...]}')
    assert (await sim.get(f"/v1/contracts/{KNOWN[0]}/events")).json()["events"] == wire_events(
        KNOWN[0]
    )
