"""The billing simulator's ASGI app: the routes of design §5 plus optional admin routes.

Every /v1 request is counted, then authenticated, then put through the live faults. With
`fault_control`, /admin (same bearer key) reads counters, replaces the faults, resets, and
overrides a contract's events so tests can craft exact histories; without it /admin is 404.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.billing.schemas import Event
from app.billing.simulator.faults import FaultInjector, Faults, LiveFaults
from app.config import DEMO_BILLING_API_KEY
from app.world.contracts import contract_profile, is_known_contract_id, newest_first

MAX_IDS_PER_BATCH = 100
_PROFILE_CACHE_SIZE = 8192

WireEvent = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Which world to serve, the key to demand, whether /admin exists, and start-up faults."""

    seed: int = 42
    api_key: str = DEMO_BILLING_API_KEY
    fault_control: bool = False
    faults: Faults = field(default_factory=Faults)


class _EventsOverride(BaseModel):
    events: list[Event]


class _Backend:
    """The simulator's state: live faults, counters and per-contract event overrides."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.live = LiveFaults(config.faults, config.seed)
        self.requests = 0
        self.ids_requested = 0
        self.last_request_id: str | None = None
        self.overrides: dict[str, list[WireEvent]] = {}
        self._world_events = functools.lru_cache(maxsize=_PROFILE_CACHE_SIZE)(self._load)

    def events_of(self, contract_id: str) -> list[WireEvent] | None:
        """The contract's events in wire form, newest first; None for an unknown contract."""
        if contract_id in self.overrides:
            return self.overrides[contract_id]
        if is_known_contract_id(contract_id):
            return self._world_events(contract_id)
        return None

    def reset(self) -> None:
        self.live.replace(Faults())
        self.requests = self.ids_requested = 0
        self.last_request_id = None
        self.overrides.clear()

    def _load(self, contract_id: str) -> list[WireEvent]:
        return [_wire(event) for event in contract_profile(self.config.seed, contract_id).events]


def create_simulator_app(config: SimulatorConfig) -> ASGIApp:
    """The simulator for CONFIG; each call builds an independent backend."""
    backend = _Backend(config)
    routes = [
        Route("/healthz", _healthz),
        Route("/v1/events", functools.partial(_batch_events, backend)),
        Route("/v1/contracts/{contract_id}/events", functools.partial(_contract_events, backend)),
    ]
    if config.fault_control:
        routes += _admin_routes(backend)
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    return _Gate(app, backend)


class _Gate:
    """Counts /v1 requests, demands the bearer key on /v1 and /admin, applies faults to /v1."""

    def __init__(self, app: ASGIApp, backend: _Backend) -> None:
        self.app = app
        self.backend = backend
        self.faulty_app = FaultInjector(app, backend.live)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        is_api = scope["type"] == "http" and path.startswith("/v1/")
        if is_api:
            self.backend.requests += 1
            self.backend.ids_requested += _ids_asked_for(scope)
            request_id = dict(scope["headers"]).get(b"x-request-id")
            self.backend.last_request_id = request_id.decode("latin-1") if request_id else None
        is_admin = self.backend.config.fault_control and path.startswith("/admin/")
        if (is_api or is_admin) and not self._authorized(scope):
            response = _error(401, "missing or wrong bearer token")
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
        elif is_api:
            await self.faulty_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        expected = self.backend.config.api_key.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)


def _ids_asked_for(scope: Scope) -> int:
    if scope["path"] == "/v1/events":
        return len(QueryParams(scope.get("query_string", b"")).getlist("contractId"))
    return 1 if scope["path"].startswith("/v1/contracts/") else 0


async def _healthz(_request: Request) -> Response:
    return _json({"status": "ok"})


async def _batch_events(backend: _Backend, request: Request) -> Response:
    contract_ids = request.query_params.getlist("contractId")
    if not 1 <= len(contract_ids) <= MAX_IDS_PER_BATCH:
        return _error(400, f"give between 1 and {MAX_IDS_PER_BATCH} contractId parameters")
    events: dict[str, list[WireEvent]] = {}
    unknown: list[str] = []
    for contract_id in contract_ids:
        if contract_id in events:
            continue
        found = backend.events_of(contract_id)
        if found is None:
            unknown.append(contract_id)
        events[contract_id] = found or []
    return _json({"events": events, "unknownContractIds": unknown})


async def _contract_events(backend: _Backend, request: Request) -> Response:
    contract_id = request.path_params["contract_id"]
    found = backend.events_of(contract_id)
    if found is None:
        return _error(404, f"unknown contract {contract_id}")
    return _json({"contractId": contract_id, "events": found})


def _admin_routes(backend: _Backend) -> list[Route]:
    async def stats(_request: Request) -> Response:
        return _json(
            {
                "requests": backend.requests,
                "contractIdsRequested": backend.ids_requested,
                "lastRequestId": backend.last_request_id,
            }
        )

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                backend.live.replace(Faults.from_json(await _json_body(request)))
            except ValueError as exc:
                return _error(400, str(exc))
        return _json(backend.live.faults.to_json())

    async def reset(_request: Request) -> Response:
        backend.reset()
        return _json({"reset": True})

    async def override(request: Request) -> Response:
        contract_id = request.path_params["contract_id"]
        try:
            body = _EventsOverride.model_validate(await _json_body(request))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            return _error(400, f'expected {{"events": [Event...]}}: {exc}')
        backend.overrides[contract_id] = [_wire(e) for e in sorted(body.events, key=newest_first)]
        return _json({"contractId": contract_id, "events": backend.overrides[contract_id]})

    return [
        Route("/admin/stats", stats),
        Route("/admin/faults", faults, methods=["GET", "POST"]),
        Route("/admin/reset", reset, methods=["POST"]),
        Route("/admin/contracts/{contract_id}/events", override, methods=["PUT"]),
    ]


async def _json_body(request: Request) -> object:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ValueError("body is not valid JSON") from exc


def _wire(event: Event) -> WireEvent:
    return event.model_dump(by_alias=True)


async def _http_error(_request: Request, exc: Exception) -> Response:
    http_exc = cast(HTTPException, exc)  # registered for HTTPException only
    return _error(http_exc.status_code, http_exc.detail)


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def _json(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
