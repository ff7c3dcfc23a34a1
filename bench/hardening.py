"""Hostile load against one gateway worker: fragment chains and a login flood, and what
`/healthz` feels meanwhile.

    .venv/bin/python bench/hardening.py [--duration 10] [--links 30,200] [--source DIR]

Starts `history-gateway serve` (one worker, pinned to CPU 0) on a fresh SQLite database with one
agent and an API token; the load runs from this process, pinned to CPU 1. No billing backend is
needed: nothing measured here reaches it.

1. Fragment chains: `viewer` spreading F0, each fragment spreading the next twice (2^links
   fields once expanded), 20 requests each, one at a time: status and latency per chain length,
   on the default token limit and with GRAPHQL_MAX_TOKENS=100000 (so that a 200-link chain
   reaches validation rather than the parser's token limit).
2. `/healthz` during `--duration` seconds of 4 clients sending 30-link chains in a loop.
3. `/healthz` during logins: rounds of 40 concurrent logins with 40 distinct unknown emails
   (each costs one Argon2 verification), for `--duration` seconds.

`/healthz` is asked every 20 ms by one more client; its p50/p99/max are reported. `--source DIR`
runs the gateway code of another checkout (e.g. a `git worktree` of an older commit) with this
environment's packages, for before/after figures; a request not answered within 5 s counts as a
timeout. Prints markdown and writes bench/results/hardening-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import rest
from rest import HOST, LOAD_CPU, SERVER_CPU, BenchError, Server

PASSWORD = "bench-hardening-password"
EMAIL = "hardening@history-gateway.invalid"
REQUEST_TIMEOUT = 5.0
CHAIN_REQUESTS = 20
CHAIN_CLIENTS = 4
LOGIN_FLOOD = 40
HEALTH_INTERVAL = 0.02
# Throttles off: the flood's 40 distinct emails from one address would be refused after 10.
SERVER_SETTINGS = {
    "COOKIE_SECURE": "false",
    "LOGIN_MAX_FAILURES_PER_ADDRESS": str(10**9),
    "RATE_LIMIT_REQUESTS": str(10**9),
}


def fragment_chain(links: int) -> str:
    fragments = " ".join(
        f"fragment F{n} on Agent {{ ...F{n + 1} ...F{n + 1} }}" for n in range(links)
    )
    return f"query {{ viewer {{ ...F0 }} }} {fragments} fragment F{links} on Agent {{ id }}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per loaded phase")
    parser.add_argument("--links", default="30,200", help="chain lengths, comma-separated")
    parser.add_argument("--source", type=Path, help="run the gateway code of this checkout")
    args = parser.parse_args()
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    if args.source is not None:
        # `python -c` puts the working directory first on sys.path, ahead of PYTHONPATH.
        os.chdir(args.source)
    try:
        report = _run(args)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    print(_markdown(report))
    rest.RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = rest.RESULTS_DIR / f"hardening-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"bench: wrote {path}")
    return 0


def _run(args: argparse.Namespace) -> dict[str, Any]:
    links = [int(part) for part in args.links.split(",") if part]
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/hardening.py", *sys.argv[1:]]),
        "source": str(args.source or Path.cwd()),
        "commit": _commit(args.source or Path.cwd()),
        "machine": rest._machine(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-hardening-") as workdir:
        environment = _environment(Path(workdir), args.source)
        token = _prepare(environment)
        with _gateway(environment, Path(workdir), "gateway") as gateway:
            report["chains"] = [_chain_latency(gateway, token, n) for n in links]
            report["health_during_chains"] = _health_during(
                gateway, args.duration, lambda: _chain_loop(gateway, token, min(links))
            )
            report["health_during_logins"] = _health_during(
                gateway, args.duration, lambda: _login_flood(gateway)
            )
        lifted = {**environment, "GRAPHQL_MAX_TOKENS": "100000"}
        with _gateway(lifted, Path(workdir), "gateway-no-token-limit") as gateway:
            report["chains_without_token_limit"] = [
                _chain_latency(gateway, token, n) for n in links
            ]
    return report


def _commit(checkout: Path) -> str:
    found = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or "unknown"


def _environment(workdir: Path, source: Path | None) -> dict[str, str]:
    environment = {
        **SERVER_SETTINGS,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/hardening.db",
        "SESSION_SECRETS": secrets.token_urlsafe(48),
    }
    if source is not None:
        environment["PYTHONPATH"] = str(source.resolve())
    return environment


def _cli(environment: Mapping[str, str], *arguments: str) -> str:
    command = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]
    completed = subprocess.run(
        [*command, *arguments],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"`history-gateway {arguments[0]}` failed:\n{completed.stderr}")
    return completed.stdout


def _prepare(environment: Mapping[str, str]) -> str:
    _cli(environment, "migrate")
    _cli(environment, "create-agent", "--email", EMAIL, "--name", "B", "--password", PASSWORD)
    issued = _cli(environment, "create-token", "--email", EMAIL, "--name", "bench")
    return issued.rsplit(": ", 1)[1].strip()


@contextmanager
def _gateway(environment: Mapping[str, str], workdir: Path, name: str) -> Iterator[Server]:
    port = rest._free_port()
    command = [
        "taskset", "-c", SERVER_CPU, sys.executable, "-c",
        "import sys; from app.cli import main; sys.exit(main())",
        "serve", "--host", HOST, "--port", str(port),
    ]  # fmt: skip
    server = rest._start(name, port, command, environment, workdir)
    try:
        rest._wait_until_answering(server)
        yield server
    finally:
        rest._stop(server.process)


def _post_chain(client: httpx.Client, server: Server, token: str, links: int) -> tuple[Any, float]:
    started = time.perf_counter()
    try:
        response = client.post(
            f"{server.base_url}/graphql",
            json={"query": fragment_chain(links)},
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.TimeoutException:
        return "timeout", time.perf_counter() - started
    return response.status_code, time.perf_counter() - started


def _chain_latency(server: Server, token: str, links: int) -> dict[str, Any]:
    statuses: list[Any] = []
    seconds: list[float] = []
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        for _ in range(CHAIN_REQUESTS):
            status, elapsed = _post_chain(client, server, token, links)
            statuses.append(status)
            seconds.append(elapsed)
            if status == "timeout":
                break  # the worker is stuck: later requests would only queue behind it
    return {"links": links, "statuses": sorted(set(map(str, statuses))), **_spread(seconds)}


def _chain_loop(server: Server, token: str, links: int) -> Callable[[], dict[str, Any]]:
    stop = threading.Event()
    statuses: list[Any] = []

    def client_loop() -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            while not stop.is_set():
                statuses.append(_post_chain(client, server, token, links)[0])

    threads = [threading.Thread(target=client_loop) for _ in range(CHAIN_CLIENTS)]
    for thread in threads:
        thread.start()

    def finish() -> dict[str, Any]:
        stop.set()
        for thread in threads:
            thread.join()
        return {"load": f"{CHAIN_CLIENTS} clients x {links}-link chains", **_counts(statuses)}

    return finish


def _login_flood(server: Server) -> Callable[[], dict[str, Any]]:
    stop = threading.Event()
    statuses: list[Any] = []
    rounds: list[float] = []

    async def one_round(client: httpx.AsyncClient, round_number: int) -> None:
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{server.base_url}/api/mind/auth/login",
                    json={"email": f"flood{round_number}.{n}@example.org", "password": "x"},
                )
                for n in range(LOGIN_FLOOD)
            ),
            return_exceptions=True,
        )
        rounds.append(time.perf_counter() - started)
        statuses.extend(
            a.status_code if isinstance(a, httpx.Response) else "error" for a in answers
        )

    async def flood() -> None:
        limits = httpx.Limits(max_connections=LOGIN_FLOOD)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            round_number = 0
            while not stop.is_set():
                await one_round(client, round_number)
                round_number += 1

    thread = threading.Thread(target=asyncio.run, args=(flood(),))
    thread.start()

    def finish() -> dict[str, Any]:
        stop.set()
        thread.join()
        return {
            "load": f"rounds of {LOGIN_FLOOD} concurrent logins, distinct emails",
            "round_seconds": _spread(rounds),
            **_counts(statuses),
        }

    return finish


def _health_during(
    server: Server, duration: float, start_load: Callable[[], Callable[[], dict[str, Any]]]
) -> dict[str, Any]:
    finish = start_load()
    seconds: list[float] = []
    failures = 0
    deadline = time.monotonic() + duration
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok = client.get(f"{server.base_url}/healthz").status_code == 200
            except httpx.TimeoutException:
                ok = False
            seconds.append(time.perf_counter() - started)
            failures += not ok
            time.sleep(HEALTH_INTERVAL)
    return {"healthz": {**_spread(seconds), "failures": failures}, **finish()}


def _spread(seconds: list[float]) -> dict[str, Any]:
    ms = sorted(value * 1000 for value in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(ms[-1], 2),
    }


def _counts(statuses: list[Any]) -> dict[str, Any]:
    counted: dict[str, int] = {}
    for status in statuses:
        counted[str(status)] = counted.get(str(status), 0) + 1
    return {"requests": len(statuses), "statuses": counted}


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "| chain | token limit | statuses | n | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, limit in (("chains", "2000"), ("chains_without_token_limit", "100000")):
        for row in report[key]:
            lines.append(
                f"| {row['links']} links | {limit} | {', '.join(row['statuses'])} | {row['n']} "
                f"| {row['p50_ms']} | {row['p99_ms']} | {row['max_ms']} |"
            )
    lines += [
        "",
        "| /healthz during | requests (statuses) | healthz n | p50 ms | p99 ms | max ms |",
    ]
    lines.append("|---|---|---|---|---|---|")
    for key in ("health_during_chains", "health_during_logins"):
        phase = report[key]
        health = phase["healthz"]
        lines.append(
            f"| {phase['load']} | {phase['requests']} ({phase['statuses']}) | {health['n']} "
            f"| {health['p50_ms']} | {health['p99_ms']} | {health['max_ms']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
