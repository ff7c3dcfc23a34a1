"""REST shim benchmark: the gateway's ticket-history endpoint against a no-framework floor.

    .venv/bin/python bench/rest.py [--customers 20000] [--duration 10] [--billing-latency-ms 0]

Seeds PostgreSQL database `history_gateway_bench` (or reuses it with --reuse), creates a bench agent
(once) and a fresh API token (every run), starts the billing simulator, the gateway
(`history-gateway serve`, with a generated SESSION_SECRETS, the rate limit lifted and the
floor's billing pool wait) and the floor (`bench/floor.py` under uvicorn), picks contract tickets
with the largest histories, and drives both servers with wrk over a rotation of those tickets,
every request carrying the token, following shared/perf.md: server on CPU 0, load generator on
CPU 1, one wrk thread, a 2 s warm-up, then c=1 and c=32. Partial answers count as errors. Prints a
markdown table and the gateway's ratios to the floor, and writes everything to
bench/results/rest-<timestamp>.json (never the token). Every subprocess it starts is stopped on
exit, error or Ctrl-C. It installs nothing: wrk must be present.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
CLI = Path(sys.executable).parent / "history-gateway"
DATABASE = "history_gateway_bench"
HOST = "127.0.0.1"
HISTORY_PATH = "/api/mind/ticket/{}/history"
SERVER_CPU, LOAD_CPU = "0", "1"
WARMUP_SECONDS = 2
CONNECTIONS = (1, 32)
SAMPLED_TICKETS = 100
CANDIDATE_CONTRACTS = 300
START_TIMEOUT_SECONDS = 60.0
WRK_INSTALL = "apt-get install -y wrk"
BILLING_API_KEY = "demo-billing-key"  # the simulator, the gateway and the floor all use it
BENCH_AGENT_EMAIL = "bench@history-gateway.invalid"
BENCH_AGENT_NAME = "bench"
# The gateway's settings that would otherwise change what is measured: no 429 after 600 requests a
# minute (the in-process counter still counts), and a billing bulkhead that waits for one of its
# 20 slots as long as the floor's httpx pool of 20 connections does (2 s), instead of answering
# `partial` after 0.1 s.
GATEWAY_BENCH_SETTINGS = {
    "RATE_LIMIT_REQUESTS": str(10**9),
    "BILLING_QUEUE_WAIT_SECONDS": "2",
}
_ISSUED_TOKEN = re.compile(r"^token (\d+) \(shown once, store it now\): (hgw_[A-Za-z0-9_-]+)$")
VERSIONED_PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "sqlalchemy",
    "asyncpg",
    "httpx",
    "httpx-aiohttp",
    "aiohttp",
    "orjson",
    "pydantic",
    "aiodataloader",
)


class BenchError(Exception):
    """The run cannot go on; the message says why."""


@dataclass(frozen=True)
class WrkResult:
    rep: int
    server: str
    connections: int
    duration_s: int
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    partial: int  # 200 answers with `"partial":true` (billing skipped), counted by the Lua script
    socket_errors: dict[str, int]
    cpu_percent: dict[str, float]


@dataclass(frozen=True)
class Sample:
    """The tickets the load rotates over, and how big their histories are."""

    ticket_ids: list[int]
    history_sizes: list[int]


@dataclass(frozen=True)
class Credentials:
    """The API token every benchmark request carries; never printed or written to the report."""

    token_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(f"    {line}" for line in text[-lines:])


def main() -> int:
    return run_main(_parser(), _run)


def run_main(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int]) -> int:
    """Every bench script's entry: parse, check the tools, run, stop cleanly on errors."""
    args = parser.parse_args()
    # Stop cleanly on Ctrl-C even when started with SIGINT ignored (a shell's background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _check_tools()
        return run(args)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; subprocesses stopped", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=_positive, default=20000, help="seeded world size")
    parser.add_argument("--seed", type=int, default=42, help="world seed (seeder and simulator)")
    parser.add_argument("--duration", type=_positive, default=10, help="seconds per measurement")
    parser.add_argument(
        "--reps", type=_positive, default=2, help="repetitions of the c=1, c=32 pair (drift check)"
    )
    parser.add_argument(
        "--billing-latency-ms", type=int, default=0, help="latency the billing simulator adds"
    )
    parser.add_argument(
        "--billing-cache-seconds",
        type=float,
        default=0,
        help="the gateway's BILLING_CACHE_SECONDS (0: off, the default)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database when it already holds this --customers/--seed world",
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432",
        help="server to create the database on (no database name)",
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _check_tools() -> None:
    if shutil.which("wrk") is None:
        print(f"bench: wrk is not installed. Install it with:\n  {WRK_INSTALL}", file=sys.stderr)
        raise SystemExit(2)
    if shutil.which("taskset") is None:
        raise BenchError("taskset (util-linux) is needed to pin the server and the load")
    if not {0, 1} <= os.sched_getaffinity(0):
        raise BenchError("CPUs 0 and 1 are needed: the server runs on 0, the load on 1")
    if not CLI.exists():
        raise BenchError(f"{CLI} not found: run with the project's .venv/bin/python")


def _run(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    database_url, prepared, credentials = prepare_run(args)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-rest-")))
        servers = stack.enter_context(_servers(args, database_url, workdir))
        simulator, gateway, floor = servers["simulator"], servers["gateway"], servers["floor"]
        sample = asyncio.run(_pick_tickets(database_url, simulator.base_url))
        bodies_match, body_bytes = _compare_bodies(
            gateway, floor, sample.ticket_ids, credentials, database_url
        )
        lua = workdir / "rotate.lua"
        lua.write_text(_lua_script(sample.ticket_ids, credentials))
        results = _measure([gateway, floor], lua, args.duration, args.reps)
        access_log_rows = asyncio.run(_access_log_rows(database_url))
    finished = datetime.now(UTC)
    summary = _summary(results)
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "command": shlex.join([".venv/bin/python", "bench/rest.py", *sys.argv[1:]]),
        "arguments": run_arguments(args, prepared),
        "auth": {
            "agent_email": BENCH_AGENT_EMAIL,
            "token_id": credentials.token_id,
            # Each 200 answer logs a row: the check's 2 x tickets, the warm-ups and the runs.
            "access_log_rows_after_run": access_log_rows,
            "requests_measured": sum(result.requests for result in results),
        },
        "machine": _machine(),
        "versions": _versions(),
        "sample": {
            "tickets": len(sample.ticket_ids),
            "history_items": _spread(sample.history_sizes),
            "gateway_body_bytes": _spread(body_bytes),
            "bodies_match_floor": bodies_match,
        },
        "runs": [asdict(result) for result in results],
        "summary": summary,
        "ratios": _ratios(summary),
    }
    path = _write_report(report, started)
    print(_markdown(report))
    print(f"\nJSON: {path.relative_to(BENCH_DIR.parent)}")
    return 0


# --- database -------------------------------------------------------------------------------


def prepare_run(args: argparse.Namespace) -> tuple[str, bool, Credentials]:
    """The bench database (created and seeded, or reused) and a fresh API token for this run:
    its URL, whether it was prepared anew, and the token."""
    database_url = f"{args.postgres_url.rstrip('/')}/{DATABASE}"
    prepared = asyncio.run(
        _prepare_database(args.postgres_url, database_url, args.customers, args.seed, args.reuse)
    )
    return database_url, prepared, asyncio.run(_issue_credentials(database_url))


def run_arguments(args: argparse.Namespace, prepared: bool) -> dict[str, Any]:
    """The options a report records."""
    return {
        "customers": args.customers,
        "seed": args.seed,
        "duration_s": args.duration,
        "reps": args.reps,
        "billing_latency_ms": args.billing_latency_ms,
        "reused_database": not prepared,
    }


async def _prepare_database(
    postgres_url: str, database_url: str, customers: int, seed: int, reuse: bool
) -> bool:
    """Create, migrate and seed the bench database; False when --reuse found it ready."""
    marker = f"history-gateway bench world: customers={customers} seed={seed}"
    try:
        admin = await asyncpg.connect(f"{postgres_url.rstrip('/')}/postgres")
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(f"cannot connect to PostgreSQL at {postgres_url}: {error}") from None
    try:
        found = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            DATABASE,
        )
        if reuse and found == marker:
            print(f"bench: reusing database {DATABASE} ({marker})", flush=True)
            _cli("migrate", database_url=database_url)
            return False
        await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DATABASE}")
        print(f"bench: created database {DATABASE}; migrating and seeding", flush=True)
        _cli("migrate", database_url=database_url)
        began = time.monotonic()
        _cli("seed", "--customers", str(customers), "--seed", str(seed), database_url=database_url)
        print(f"bench: seeded in {time.monotonic() - began:.1f} s", flush=True)
        # Fresh tables: settle statistics and visibility now, not under load from autovacuum.
        bench = await asyncpg.connect(database_url)
        try:
            await bench.execute("VACUUM (ANALYZE)")
        finally:
            await bench.close()
        await admin.execute(f"COMMENT ON DATABASE {DATABASE} IS '{marker}'")
        return True
    finally:
        await admin.close()


def _cli(*arguments: str, database_url: str, echo: bool = True) -> str:
    completed = subprocess.run(
        [str(CLI), *arguments],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(
            f"`history-gateway {' '.join(arguments)}` failed ({completed.returncode}):\n"
            f"{completed.stderr.strip() or completed.stdout.strip()}"
        )
    if echo and completed.stdout.strip():
        print(f"bench: {completed.stdout.strip()}", flush=True)
    return completed.stdout


async def _issue_credentials(database_url: str) -> Credentials:
    """Empty the access log, create the bench agent if it is missing, and issue a fresh token.

    The access log starts empty on every run, reused database or not, so both servers always
    insert into the same small table.
    """
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("TRUNCATE access_log")
        agent_id = await connection.fetchval(
            "SELECT id FROM agents WHERE email = $1", BENCH_AGENT_EMAIL
        )
    finally:
        await connection.close()
    if agent_id is None:
        # Nobody logs in as this agent: its password is random and thrown away.
        _cli(
            "create-agent", "--email", BENCH_AGENT_EMAIL, "--name", BENCH_AGENT_NAME,
            "--password", secrets.token_urlsafe(24),
            database_url=database_url,
        )  # fmt: skip
    name = f"bench run {datetime.now(UTC).isoformat(timespec='seconds')}"
    output = _cli(
        "create-token", "--email", BENCH_AGENT_EMAIL, "--name", name,
        database_url=database_url, echo=False,
    )  # fmt: skip
    issued = next(filter(None, map(_ISSUED_TOKEN.match, output.splitlines())), None)
    if issued is None:
        raise BenchError("`history-gateway create-token` printed no token line")
    print(f"bench: issued API token {issued[1]} to {BENCH_AGENT_EMAIL}", flush=True)
    return Credentials(token_id=int(issued[1]), token=issued[2])


async def _access_log_rows(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        rows: int = await connection.fetchval("SELECT count(*) FROM access_log")
    finally:
        await connection.close()
    return rows


async def _pick_tickets(database_url: str, billing_url: str) -> Sample:
    """One ticket from each of the contracts with the largest histories (tickets + events)."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT contract_id, count(*) AS tickets, min(id) AS ticket_id FROM tickets "
            "WHERE contract_id IS NOT NULL GROUP BY contract_id "
            "ORDER BY count(*) DESC, contract_id LIMIT $1",
            CANDIDATE_CONTRACTS,
        )
    finally:
        await connection.close()
    if not rows:
        raise BenchError("the seeded world has no ticket with a contract")
    events = await _event_counts(billing_url, [row["contract_id"] for row in rows])
    sized = sorted(
        (
            (row["tickets"] + events[row["contract_id"]], row["ticket_id"])
            for row in rows
            if row["contract_id"] in events
        ),
        reverse=True,
    )[:SAMPLED_TICKETS]
    if not sized:
        raise BenchError("the billing simulator knows none of the seeded contracts")
    return Sample(
        ticket_ids=[ticket_id for _, ticket_id in sized],
        history_sizes=[size for size, _ in sized],
    )


async def _event_counts(billing_url: str, contract_ids: list[str]) -> dict[str, int]:
    """Events per contract the simulator knows (unknown contracts are left out)."""
    counts: dict[str, int] = {}
    async with httpx.AsyncClient(
        base_url=billing_url, headers={"Authorization": f"Bearer {BILLING_API_KEY}"}
    ) as client:
        for start in range(0, len(contract_ids), 100):
            batch = contract_ids[start : start + 100]
            response = await client.get("/v1/events", params=[("contractId", c) for c in batch])
            response.raise_for_status()
            body = response.json()
            unknown = set(body["unknownContractIds"])
            counts.update(
                (cid, len(body["events"].get(cid, []))) for cid in batch if cid not in unknown
            )
    return counts


# --- servers --------------------------------------------------------------------------------


@contextmanager
def _servers(
    args: argparse.Namespace, database_url: str, workdir: Path
) -> Iterator[dict[str, Server]]:
    """The simulator, the gateway and the floor, answering; all stopped when the block ends."""
    started: list[Server] = []
    try:
        simulator_port = _free_port()
        billing_url = f"http://{HOST}:{simulator_port}"
        # The simulator shares the load generator's core, so CPU 0 belongs to the server alone.
        simulator = _start(
            "simulator",
            simulator_port,
            [
                "taskset", "-c", LOAD_CPU, str(CLI), "billing-simulator",
                "--host", HOST, "--port", str(simulator_port), "--seed", str(args.seed),
                "--latency-ms", str(args.billing_latency_ms),
            ],
            {"BILLING_API_KEY": BILLING_API_KEY},
            workdir,
        )  # fmt: skip
        started.append(simulator)
        env = {
            "DATABASE_URL": database_url,
            "BILLING_URL": billing_url,
            "BILLING_API_KEY": BILLING_API_KEY,
        }
        # `serve` refuses to start without cookie secrets; the benchmark only sends tokens.
        gateway_env = {
            **env,
            **GATEWAY_BENCH_SETTINGS,
            "SESSION_SECRETS": secrets.token_urlsafe(48),
            "BILLING_CACHE_SECONDS": str(args.billing_cache_seconds),
            # bench/run.py's batching phase reads the per-request counts from headers.
            "DEBUG_COUNTERS": "true" if getattr(args, "debug_counters", False) else "false",
        }
        gateway_port = _free_port()
        gateway = _start(
            "gateway",
            gateway_port,
            [
                "taskset", "-c", SERVER_CPU, str(CLI), "serve",
                "--host", HOST, "--port", str(gateway_port), "--workers", "1",
            ],
            gateway_env,
            workdir,
        )  # fmt: skip
        started.append(gateway)
        floor_port = _free_port()
        floor = _start(
            "floor",
            floor_port,
            [
                "taskset", "-c", SERVER_CPU, sys.executable, "-m", "uvicorn",
                "floor:create_app", "--factory", "--app-dir", str(BENCH_DIR),
                "--host", HOST, "--port", str(floor_port), "--workers", "1",
                "--loop", "uvloop", "--http", "httptools",
                "--log-level", "warning", "--no-access-log",
            ],
            env,
            workdir,
        )  # fmt: skip
        started.append(floor)
        for server in started:
            _wait_until_answering(server)
        yield {server.name: server for server in started}
    finally:
        for server in reversed(started):
            _stop(server.process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _start(
    name: str, port: int, command: list[str], env: Mapping[str, str], workdir: Path
) -> Server:
    log = workdir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches it only through us
        )
    return Server(name, port, process, log)


def _wait_until_answering(server: Server) -> None:
    """Any HTTP answer at / counts: the server is up and its lifespan has started."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchError(
                    f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            try:
                client.get(f"{server.base_url}/")
            except httpx.TransportError:
                time.sleep(0.1)
            else:
                return
    raise BenchError(f"{server.name} did not answer in {START_TIMEOUT_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT the process group we started (uvicorn shuts down cleanly), SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGINT, 10.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)


# --- checks and load ------------------------------------------------------------------------


def _compare_bodies(
    gateway: Server,
    floor: Server,
    ticket_ids: list[int],
    credentials: Credentials,
    database_url: str,
) -> tuple[bool, list[int]]:
    """Whether both servers answer every ticket with the same JSON, and the gateway's sizes.

    Both must refuse a request without the token (401), answer every ticket 200 with it (the
    gateway with a complete history) and log exactly one access_log row per answer: anything
    else ends the run.
    """
    mismatches: list[int] = []
    sizes: list[int] = []
    answers: dict[str, list[httpx.Response]] = {}
    with httpx.Client(timeout=10.0) as client:
        for server in (gateway, floor):
            refused = client.get(server.base_url + HISTORY_PATH.format(ticket_ids[0]))
            if refused.status_code != 401:
                raise BenchError(
                    f"{server.name} answered {refused.status_code}, not 401, without a token"
                )
            rows_before = asyncio.run(_access_log_rows(database_url))
            answers[server.name] = []
            for ticket_id in ticket_ids:
                path = HISTORY_PATH.format(ticket_id)
                response = client.get(server.base_url + path, headers=credentials.headers)
                if response.status_code != 200:
                    raise BenchError(
                        f"{server.name} answered {response.status_code} for {path}: "
                        f"{response.text[:300]}\n{server.name} log:\n{server.log_tail()}"
                    )
                answers[server.name].append(response)
            logged = asyncio.run(_access_log_rows(database_url)) - rows_before
            if logged != len(ticket_ids):
                raise BenchError(
                    f"{server.name} logged {logged} access_log rows for {len(ticket_ids)} reads"
                )
    for ticket_id, ours, theirs in zip(
        ticket_ids, answers["gateway"], answers["floor"], strict=True
    ):
        body = ours.json()
        if body.get("partial"):
            path = HISTORY_PATH.format(ticket_id)
            raise BenchError(f"gateway answered a partial history for {path}: {body}")
        sizes.append(len(ours.content))
        if body != theirs.json():
            mismatches.append(ticket_id)
    if mismatches:
        print(
            f"bench: WARNING: gateway and floor bodies differ for {len(mismatches)} of "
            f"{len(ticket_ids)} tickets (e.g. {mismatches[:5]}); the ratio compares "
            "unequal work",
            file=sys.stderr,
        )
    return not mismatches, sizes


def _lua_script(ticket_ids: list[int], credentials: Credentials) -> str:
    """A wrk script that asks for the sampled tickets' histories in turn, with the token.

    It also counts partial answers (a 200 without the billing events), which wrk would count
    as successes, and prints `Partial answers: N` at the end.
    """
    ids = ", ".join(str(ticket_id) for ticket_id in ticket_ids)
    prefix, suffix = HISTORY_PATH.split("{}")
    # wrk.format sends wrk.headers when it is given none.
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in credentials.headers.items())
    return (
        headers + f"local ids = {{{ids}}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #ids + 1\n"
        f'  return wrk.format("GET", "{prefix}" .. ids[n] .. "{suffix}")\n'
        "end\n" + lua_partial_counter(PARTIAL_LUA)
    )


# A Lua condition on a wrk answer (`status`, `body`): a REST answer without the billing events.
PARTIAL_LUA = "string.find(body, '\"partial\":true', 1, true)"


def lua_partial_counter(condition: str) -> str:
    """wrk Lua that counts 200 answers meeting CONDITION and prints `Partial answers: N`.

    `_parse_wrk` reads that line; wrk alone would count such answers as successes.
    """
    return (
        "local threads = {}\n"
        "setup = function(thread) table.insert(threads, thread) end\n"
        "partial = 0\n"
        "response = function(status, headers, body)\n"
        f"  if status == 200 and ({condition}) then\n"
        "    partial = partial + 1\n"
        "  end\n"
        "end\n"
        "done = function(summary, latency, requests)\n"
        "  local total = 0\n"
        '  for _, thread in ipairs(threads) do total = total + thread:get("partial") end\n'
        '  io.write(string.format("Partial answers: %d\\n", total))\n'
        "end\n"
    )


def _measure(servers: list[Server], lua: Path, duration: int, reps: int) -> list[WrkResult]:
    """Warm every server up at c=32, then measure c=1 and c=32 per rep, alternating the order."""
    for server in servers:
        print(f"bench: warm-up {server.name} ({WARMUP_SECONDS} s, c=32)", flush=True)
        _wrk(server, lua, 32, WARMUP_SECONDS, rep=0)
    results = []
    for rep in range(1, reps + 1):
        for round_no, connections in enumerate(CONNECTIONS):
            order = servers if (rep + round_no) % 2 else list(reversed(servers))
            for server in order:
                print(
                    f"bench: rep {rep}: {server.name} c={connections} for {duration} s", flush=True
                )
                results.append(_wrk(server, lua, connections, duration, rep=rep))
    return results


def _wrk(server: Server, lua: Path, connections: int, duration: int, *, rep: int) -> WrkResult:
    command = [
        "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
        "--latency", "-s", str(lua), server.base_url,
    ]  # fmt: skip
    ticks_before = _cpu_ticks()
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=duration + 30
    )
    cpu = _cpu_percent(ticks_before, _cpu_ticks())
    if completed.returncode != 0 or server.process.poll() is not None:
        raise BenchError(
            f"wrk against {server.name} failed:\n{completed.stdout}{completed.stderr}\n"
            f"{server.name} log:\n{server.log_tail()}"
        )
    return _parse_wrk(completed.stdout, rep, server.name, connections, duration, cpu)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _parse_wrk(
    output: str,
    rep: int,
    server: str,
    connections: int,
    duration: int,
    cpu: dict[str, float],
) -> WrkResult:
    def number(pattern: str) -> re.Match[str]:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise BenchError(f"unexpected wrk output (no match for {pattern!r}):\n{output}")
        return found

    def latency_ms(percentile: int) -> float:
        found = number(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$")
        return float(found[1]) * _UNITS_MS[found[2]]

    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        rep=rep,
        server=server,
        connections=connections,
        duration_s=duration,
        requests=int(number(r"(\d+) requests in")[1]),
        requests_per_s=float(number(r"Requests/sec:\s+([\d.]+)")[1]),
        p50_ms=latency_ms(50),
        p99_ms=latency_ms(99),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        partial=int(number(r"^Partial answers: (\d+)$")[1]),
        socket_errors=dict(
            zip(
                ("connect", "read", "write", "timeout"),
                (int(n) for n in socket_errors.groups()) if socket_errors else (0, 0, 0, 0),
                strict=True,
            )
        ),
        cpu_percent=cpu,
    )


def _cpu_ticks() -> dict[str, list[int]]:
    """/proc/stat's first eight counters (user … steal) of the machine and of each CPU."""
    lines = Path("/proc/stat").read_text().splitlines()
    return {
        fields[0]: [int(n) for n in fields[1:9]]
        for fields in (line.split() for line in lines)
        if fields and fields[0].startswith("cpu")
    }


def _cpu_percent(before: dict[str, list[int]], after: dict[str, list[int]]) -> dict[str, float]:
    """Busy shares of the server's and the load's CPU, and the machine's stolen share.

    Busy is user, nice, system, irq and softirq time; idle, iowait and steal are not.
    """

    def share(cpu: str, columns: tuple[int, ...]) -> float:
        delta = [a - b for a, b in zip(after[cpu], before[cpu], strict=True)]
        total = sum(delta)
        return round(100 * sum(delta[i] for i in columns) / total, 1) if total else 0.0

    busy = (0, 1, 2, 5, 6)
    return {
        "server_cpu_busy": share(f"cpu{SERVER_CPU}", busy),
        "load_cpu_busy": share(f"cpu{LOAD_CPU}", busy),
        "steal": share("cpu", (7,)),
    }


# --- report ---------------------------------------------------------------------------------


def _summary(results: list[WrkResult]) -> list[dict[str, Any]]:
    """Per server and concurrency: means over the reps, and each rep's figures."""
    return [
        {
            "server": server,
            **summary_row(
                [r for r in results if r.server == server and r.connections == connections]
            ),
        }
        for connections in CONNECTIONS
        for server in ("floor", "gateway")
    ]


def summary_row(runs: list[WrkResult]) -> dict[str, Any]:
    """The reps of one target at one concurrency: means, and each rep's figures."""
    return {
        "connections": runs[0].connections,
        "requests_per_s": round(statistics.mean(r.requests_per_s for r in runs), 1),
        "p50_ms": round(statistics.mean(r.p50_ms for r in runs), 3),
        "p99_ms": round(statistics.mean(r.p99_ms for r in runs), 3),
        "requests_per_s_by_rep": [r.requests_per_s for r in runs],
        "p50_ms_by_rep": [r.p50_ms for r in runs],
        "p99_ms_by_rep": [r.p99_ms for r in runs],
        "errors": sum(r.non_2xx + r.partial + sum(r.socket_errors.values()) for r in runs),
        "cpu_percent": {
            key: round(statistics.mean(r.cpu_percent[key] for r in runs), 1)
            for key in runs[0].cpu_percent
        },
    }


def _ratios(summary: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Gateway over floor per concurrency: req/s (higher is better), latencies (lower is)."""
    ratios = {}
    for connections in CONNECTIONS:
        gateway, floor = (
            next(
                row
                for row in summary
                if row["server"] == name and row["connections"] == connections
            )
            for name in ("gateway", "floor")
        )
        ratios[f"c{connections}"] = {
            "requests_per_s": round(gateway["requests_per_s"] / floor["requests_per_s"], 3),
            "requests_per_s_by_rep": [
                round(g / f, 3)
                for g, f in zip(
                    gateway["requests_per_s_by_rep"], floor["requests_per_s_by_rep"], strict=True
                )
            ],
            "p50": round(gateway["p50_ms"] / floor["p50_ms"], 2),
            "p99": round(gateway["p99_ms"] / floor["p99_ms"], 2),
        }
    return ratios


def _spread(values: list[int]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    loops, seconds = timeit.Timer("sum(range(1000))").autorange()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sum_range_1000_us": round(seconds / loops * 1e6, 2),
    }


def _versions() -> dict[str, str]:
    versions = {}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    versions["wrk"] = (wrk.stdout or wrk.stderr).split("Copyright")[0].strip()
    return versions


def _write_report(report: dict[str, Any], started: datetime) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"rest-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def _markdown(report: dict[str, Any]) -> str:
    def each(values: list[float], digits: int) -> str:
        return "/".join(f"{value:.{digits}f}" for value in values)

    lines = [
        "| server | c | req/s mean (each rep) | p50 ms (each rep) | p99 ms (each rep) "
        "| errors | CPU0 busy % | CPU1 busy % | steal % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["summary"]:
        cpu = row["cpu_percent"]
        lines.append(
            f"| {row['server']} | {row['connections']} "
            f"| {row['requests_per_s']:.0f} ({each(row['requests_per_s_by_rep'], 0)}) "
            f"| {each(row['p50_ms_by_rep'], 2)} | {each(row['p99_ms_by_rep'], 1)} "
            f"| {row['errors']} | {cpu['server_cpu_busy']} | {cpu['load_cpu_busy']} "
            f"| {cpu['steal']} |"
        )
    lines += [
        "",
        "| gateway ÷ floor | req/s (each rep) | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for key, ratio in report["ratios"].items():
        lines.append(
            f"| c={key.removeprefix('c')} | {ratio['requests_per_s']:.3f} "
            f"({each(ratio['requests_per_s_by_rep'], 3)}) "
            f"| {ratio['p50']:.2f}× | {ratio['p99']:.2f}× |"
        )
    sample = report["sample"]
    lines += [
        "",
        f"{sample['tickets']} tickets rotated; history items per ticket "
        f"{_spread_text(sample['history_items'])}, gateway body bytes "
        f"{_spread_text(sample['gateway_body_bytes'])}; "
        f"bodies equal to the floor's: {'yes' if sample['bodies_match_floor'] else 'NO'}.",
    ]
    return "\n".join(lines)


def _spread_text(spread: dict[str, float]) -> str:
    return f"{spread['min']:g}–{spread['max']:g} (median {spread['median']:g})"


if __name__ == "__main__":
    sys.exit(main())
