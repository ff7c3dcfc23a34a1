"""Running the billing simulator: command-line flags, a blocking runner and an awaitable server."""

from __future__ import annotations

import argparse
import os

import uvicorn

from app.billing.simulator.app import SimulatorConfig, create_simulator_app
from app.billing.simulator.faults import Faults
from app.billing.simulator.raw_wire import Framing
from app.config import DEMO_BILLING_API_KEY

# A hung request must not keep a stopping server alive for ever.
_GRACEFUL_SHUTDOWN_SECONDS = 3


def add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    """The `billing-simulator` flags: where to listen, the world seed, and start-up faults."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo world")
    parser.add_argument(
        "--fault-control",
        action="store_true",
        help="serve /admin routes to read counters and change faults at run time",
    )
    faults = parser.add_argument_group("faults applied to /v1 requests")
    faults.add_argument("--latency-ms", type=int, default=0, help="added to every answer")
    faults.add_argument("--jitter-ms", type=int, default=0, help="up to this much more latency")
    faults.add_argument("--error-rate", type=float, default=0.0, help="share of errors, 0..1")
    faults.add_argument("--error-status", type=int, default=503, help="status of those errors")
    faults.add_argument("--hang", action="store_true", help="never answer")
    faults.add_argument(
        "--drip-bytes-per-second", type=int, default=0, help="send bodies this slowly"
    )
    faults.add_argument("--malformed", action="store_true", help="answer 200 with invalid JSON")
    faults.add_argument(
        "--oversize-bytes", type=int, default=0, help="pad bodies to at least this size"
    )
    faults.add_argument("--reset", action="store_true", help="drop connections mid-body")
    faults.add_argument(
        "--framing",
        choices=[framing.value for framing in Framing],
        help="answer with broken HTTP framing",
    )


def simulator_config(args: argparse.Namespace) -> SimulatorConfig:
    """The configuration given by parsed flags and BILLING_API_KEY; ValueError if invalid."""
    faults = Faults(
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        error_rate=args.error_rate,
        error_status=args.error_status,
        hang=args.hang,
        drip_bytes_per_second=args.drip_bytes_per_second,
        malformed=args.malformed,
        oversize_bytes=args.oversize_bytes,
        reset=args.reset,
        framing=Framing(args.framing) if args.framing else None,
    )
    return SimulatorConfig(
        seed=args.seed,
        api_key=os.environ.get("BILLING_API_KEY") or DEMO_BILLING_API_KEY,
        fault_control=args.fault_control,
        faults=faults,
    )


def run_simulator(args: argparse.Namespace) -> None:
    """Serve the simulator until interrupted (the `billing-simulator` command)."""
    try:
        config = simulator_config(args)
    except ValueError as exc:
        raise SystemExit(f"billing-simulator: {exc}") from None
    uvicorn.Server(_uvicorn_config(config, args.host, args.port, log_level="info")).run()


async def serve_simulator(config: SimulatorConfig, host: str, port: int) -> None:
    """Serve the simulator inside the running event loop, e.g. beside the gateway (quietly)."""
    await uvicorn.Server(_uvicorn_config(config, host, port, log_level="warning")).serve()


def _uvicorn_config(
    config: SimulatorConfig, host: str, port: int, *, log_level: str
) -> uvicorn.Config:
    return uvicorn.Config(
        create_simulator_app(config),
        host=host,
        port=port,
        log_level=log_level,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
    )
