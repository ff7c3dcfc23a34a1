"""The "Performance" issue's remaining figures in one run: peak RSS, deep pages, latency hiding.

    .venv/bin/python bench/perf_issue.py [--customers 20000] [--duration 6] [--reuse]

Reuses `bench/rest.py` and `bench/graphql_load.py` (database, token, servers, checks, wrk).

1. Peak RSS: the simulator, the gateway, the floor and stock Strawberry run under the GraphQL
   benchmark's load (4 targets, c=1 and c=32, one rep) while a thread samples each process
   tree's VmRSS; VmHWM (the kernel's peak) is read after each phase.
2. Deep history: one extra contract (serial LAST_SERIAL, so the simulator knows it and its events
   come from the world generator) for an existing customer, with DEEP_TICKETS tickets inserted
   with SQL above the seeded ticket ids, spread over the seeded years. wrk at c=1 measures
   GraphQL `history(first: 100)` against the same page after the cursor at depth DEEP_OFFSET
   (found by walking), and REST `limit=100&offset=0` against `offset=DEEP_OFFSET`. The contract
   and its tickets are deleted again when the run ends, so rest.py's sample is unchanged.
3. Latency hiding: the simulator, gateway and floor restarted with the simulator adding
   `--billing-latency-ms` (default 50); gateway and floor REST at c=1, p50 against 1.3 x that.

Prints figures (no pass/fail) and writes bench/results/perf-<timestamp>.json (never the token).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import graphql_load
import httpx
import rest
from rest import BenchError, Credentials, Server, WrkResult

from app.world.contracts import LAST_SERIAL, contract_profile, make_contract_id

DEFAULT_DURATION = 6  # seconds per measurement: the whole run stays near 3 minutes
DEFAULT_LATENCY_MS = 50
LATENCY_BUDGET = 1.3  # the issue: p50 within 1.3 x the billing latency at c=1
RSS_TARGET_MB = 200
RSS_SAMPLE_SECONDS = 0.2
DEEP_SERIAL = LAST_SERIAL  # far beyond any seeded contract serial
DEEP_TICKETS = 10_000
DEEP_OFFSET = 9_000
PAGE = graphql_load.PAGE
WALK_PAGE = 1000  # the largest `first` the schema allows: 9 requests to reach depth 9000
_ONE_PAGE = f"history(first: {PAGE})"
if _ONE_PAGE not in graphql_load.HISTORY_QUERY:
    raise RuntimeError("graphql_load.HISTORY_QUERY no longer asks for history(first: PAGE)")
# graphql_load's selection, with the page size and the cursor as variables.
DEEP_QUERY = graphql_load.HISTORY_QUERY.replace(
    "($id: Int!)", "($id: Int!, $first: Int!, $after: String)"
).replace(_ONE_PAGE, "history(first: $first, after: $after)")
# The channels (and subchannel keys) the extra tickets cycle through.
DEEP_CHANNELS = (
    ("email", "support-mail"),
    ("phone", "hotline"),
    ("portal", "kundenportal"),
    ("letter", None),
)


def main() -> int:
    return rest.run_main(_parser(), _run)


def _parser() -> argparse.ArgumentParser:
    parser = rest._parser()
    parser.description = __doc__.split("\n\n")[0]
    # --billing-latency-ms is the latency phase's; the RSS and deep phases run with none.
    parser.set_defaults(duration=DEFAULT_DURATION, billing_latency_ms=DEFAULT_LATENCY_MS)
    return parser


def _run(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    database_url = f"{args.postgres_url.rstrip('/')}/{rest.DATABASE}"
    prepared = asyncio.run(
        rest._prepare_database(
            args.postgres_url, database_url, args.customers, args.seed, args.reuse
        )
    )
    deep_contract = make_contract_id(DEEP_SERIAL)
    asyncio.run(_drop_deep_contract(database_url, deep_contract))  # an interrupted run's
    credentials = asyncio.run(rest._issue_credentials(database_url))
    no_latency = argparse.Namespace(**{**vars(args), "billing_latency_ms": 0})
    with_latency = argparse.Namespace(**vars(args))
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": shlex.join([".venv/bin/python", "bench/perf_issue.py", *sys.argv[1:]]),
        "arguments": {
            "customers": args.customers,
            "seed": args.seed,
            "duration_s": args.duration,
            "billing_latency_ms": args.billing_latency_ms,
            "reused_database": not prepared,
        },
        "auth": {"agent_email": rest.BENCH_AGENT_EMAIL, "token_id": credentials.token_id},
        "machine": rest._machine(),
        "versions": graphql_load._versions(),
    }
    with ExitStack() as stack:
        stack.callback(lambda: asyncio.run(_drop_deep_contract(database_url, deep_contract)))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-perf-")))
        with ExitStack() as phase:
            servers = dict(phase.enter_context(rest._servers(no_latency, database_url, workdir)))
            servers["stock"] = phase.enter_context(
                graphql_load._stock_server(database_url, servers["simulator"].base_url, workdir)
            )
            memory = phase.enter_context(_rss_sampler(servers))
            memory.snapshot("started")
            sample = asyncio.run(rest._pick_tickets(database_url, servers["simulator"].base_url))
            report["load"] = _sustained_load(servers, sample, credentials, database_url, args)
            memory.snapshot("after sustained load")
            deep_ticket = asyncio.run(_insert_deep_contract(database_url, deep_contract, args.seed))
            report["deep"] = _deep_pages(
                servers["gateway"], deep_ticket, deep_contract, credentials, args.duration
            )
            memory.snapshot("after deep pages")
            report["rss"] = memory.report()
        with rest._servers(with_latency, database_url, workdir) as servers:
            report["latency_hiding"] = _latency_hiding(
                servers, sample.ticket_ids, credentials, args
            )
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    path = rest.RESULTS_DIR / f"perf-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    rest.RESULTS_DIR.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(_markdown(report))
    print(f"\nJSON: {path.relative_to(rest.BENCH_DIR.parent)}")
    return 0


# --- memory ---------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    """PID and every process below it (taskset execs, so PID is the server itself)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _status_kb(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM); 0 once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


class _RssSampler:
    """Samples each server's process tree's VmRSS; `snapshot` records VmHWM per process."""

    def __init__(self, servers: dict[str, Server]) -> None:
        self.servers = servers
        self.peak_rss_kb = dict.fromkeys(servers, 0)
        self.samples = 0
        self.snapshots: list[dict[str, Any]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(RSS_SAMPLE_SECONDS):
            for name, server in self.servers.items():
                tree = _descendants(server.process.pid)
                rss = sum(_status_kb(pid, "VmRSS") for pid in tree)
                self.peak_rss_kb[name] = max(self.peak_rss_kb[name], rss)
            self.samples += 1

    def snapshot(self, label: str) -> None:
        self.snapshots.append(
            {
                "at": label,
                "processes": {
                    name: {
                        str(pid): {
                            "vm_hwm_kb": _status_kb(pid, "VmHWM"),
                            "vm_rss_kb": _status_kb(pid, "VmRSS"),
                        }
                        for pid in _descendants(server.process.pid)
                    }
                    for name, server in self.servers.items()
                },
            }
        )

    def report(self) -> dict[str, Any]:
        last = self.snapshots[-1]["processes"]
        return {
            "target_mb": RSS_TARGET_MB,
            "sample_interval_s": RSS_SAMPLE_SECONDS,
            "samples": self.samples,
            # The largest VmHWM of any one process of the server (its worker) at the end.
            "peak_vm_hwm_mb": {
                name: round(max(p["vm_hwm_kb"] for p in procs.values()) / 1024, 1)
                for name, procs in last.items()
            },
            # The largest sampled VmRSS summed over the server's process tree.
            "peak_sampled_rss_mb": {
                name: round(kb / 1024, 1) for name, kb in self.peak_rss_kb.items()
            },
            "snapshots": self.snapshots,
        }


@contextmanager
def _rss_sampler(servers: dict[str, Server]) -> Iterator[_RssSampler]:
    sampler = _RssSampler(servers)
    thread = threading.Thread(target=sampler.run, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield sampler
    finally:
        sampler.stopped.set()
        thread.join()


# --- sustained load -------------------------------------------------------------------------


def _sustained_load(
    servers: dict[str, Server],
    sample: rest.Sample,
    credentials: Credentials,
    database_url: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """graphql_load's checks and load (one rep), for the RSS figures; its table as a by-product."""
    bodies_match, rest_bytes = rest._compare_bodies(
        servers["gateway"], servers["floor"], sample.ticket_ids, credentials, database_url
    )
    graphql_sample = graphql_load._check_graphql(
        servers["gateway"], servers["stock"], sample.ticket_ids, credentials
    )
    workdir = servers["gateway"].log.parent
    scripts = {"rest": workdir / "rest.lua", "graphql": workdir / "graphql.lua"}
    scripts["rest"].write_text(rest._lua_script(sample.ticket_ids, credentials))
    scripts["graphql"].write_text(graphql_load._graphql_lua(sample.ticket_ids, credentials))
    results = graphql_load._measure(servers, scripts, args.duration, reps=1)
    summary = graphql_load._summary(results)
    return {
        "sample": {
            "tickets": len(sample.ticket_ids),
            "history_items": rest._spread(sample.history_sizes),
            "rest_body_bytes": rest._spread(rest_bytes),
            "rest_bodies_match_floor": bodies_match,
            "graphql_edges": rest._spread(graphql_sample.edges),
            "graphql_total_count": rest._spread(graphql_sample.total_counts),
            "graphql_body_bytes": rest._spread(graphql_sample.body_bytes),
            "graphql_bodies_match_stock": graphql_sample.bodies_match_stock,
        },
        "runs": [asdict(result) for result in results],
        "summary": summary,
        "ratios": graphql_load._ratios(summary),
    }


# --- deep history ---------------------------------------------------------------------------


async def _drop_deep_contract(database_url: str, contract_id: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await connection.execute(
                "DELETE FROM access_log WHERE ticket_id IN "
                "(SELECT id FROM tickets WHERE contract_id = $1)",
                contract_id,
            )
            deleted = await connection.execute(
                "DELETE FROM tickets WHERE contract_id = $1", contract_id
            )
            await connection.execute("DELETE FROM contracts WHERE id = $1", contract_id)
        if deleted != "DELETE 0":
            await connection.execute("ANALYZE tickets")
    finally:
        await connection.close()


async def _insert_deep_contract(database_url: str, contract_id: str, seed: int) -> int:
    """Add CONTRACT_ID with DEEP_TICKETS tickets to a seeded customer; its newest ticket's id."""
    profile = contract_profile(seed, contract_id)
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            customer_id = await connection.fetchval(
                "SELECT customer_id FROM contracts ORDER BY id LIMIT 1"
            )
            first_id, oldest, newest = await connection.fetchrow(
                "SELECT max(id) + 1, min(created_at), max(created_at) FROM tickets"
            )
            await connection.execute(
                "INSERT INTO contracts (id, customer_id, energy, status, product_name, malo_id, "
                "grid_operator_name, delivery_address, start_date, end_date) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                contract_id, customer_id, profile.energy, profile.status,
                profile.product_name, profile.malo_id, profile.grid_operator_name,
                profile.delivery_address, profile.start_date, profile.end_date,
            )  # fmt: skip
            subchannels = dict(await connection.fetch("SELECT key, id FROM subchannels"))
            channels = [channel for channel, _ in DEEP_CHANNELS]
            subchannel_ids = [subchannels.get(key) for _, key in DEEP_CHANNELS]
            # Ticket n (0-based) at oldest + n * step: evenly over the seeded years.
            await connection.execute(
                "INSERT INTO tickets (id, channel, subchannel_id, status, subject, from_name, "
                "contract_id, customer_id, created_at) "
                "SELECT $1::int + n, ($2::text[])[1 + n % 4], ($3::int[])[1 + n % 4], "
                "CASE WHEN n % 50 = 0 THEN 'open' ELSE 'closed' END, "
                "'Bench deep history ticket ' || n, 'Bench', $4, $5, "
                "$6::int + (n::bigint * ($7::int - $6::int) / $8::int)::int "
                "FROM generate_series(0, $8::int - 1) AS n",
                first_id, channels, subchannel_ids, contract_id, customer_id,
                oldest, newest, DEEP_TICKETS,
            )  # fmt: skip
        await connection.execute("ANALYZE tickets")
    finally:
        await connection.close()
    print(
        f"bench: added contract {contract_id} for customer {customer_id} with {DEEP_TICKETS} "
        f"tickets (ids {first_id}–{first_id + DEEP_TICKETS - 1})",
        flush=True,
    )
    return int(first_id + DEEP_TICKETS - 1)


def _graphql_body(ticket_id: int, first: int, after: str | None) -> dict[str, Any]:
    return {"query": DEEP_QUERY, "variables": {"id": ticket_id, "first": first, "after": after}}


def _history(client: httpx.Client, gateway: Server, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(gateway.base_url + graphql_load.GRAPHQL_PATH, json=body)
    answer = response.json() if response.status_code == 200 else {}
    history = ((answer.get("data") or {}).get("ticket") or {}).get("history")
    if "errors" in answer or not history or not history["isComplete"]:
        raise BenchError(
            f"gateway answered {body['variables']} with {response.status_code}: "
            f"{response.text[:300]}\ngateway log:\n{gateway.log_tail()}"
        )
    return dict(history)


def _deep_pages(
    gateway: Server, ticket_id: int, contract_id: str, credentials: Credentials, duration: int
) -> dict[str, Any]:
    """The first page and the page at depth DEEP_OFFSET, by GraphQL cursor and by REST offset."""
    rest_path = rest.HISTORY_PATH.format(ticket_id) + "?limit={}&offset={}"
    with httpx.Client(timeout=30.0, headers=credentials.headers) as client:
        cursor, walked = None, 0
        while walked < DEEP_OFFSET:
            step = min(WALK_PAGE, DEEP_OFFSET - walked)
            page = _history(client, gateway, _graphql_body(ticket_id, step, cursor))
            walked += len(page["edges"])
            cursor = page["pageInfo"]["endCursor"]
            if not page["pageInfo"]["hasNextPage"]:
                raise BenchError(f"the history of ticket {ticket_id} ends at {walked} items")
        first_page = _history(client, gateway, _graphql_body(ticket_id, PAGE, None))
        deep_page = _history(client, gateway, _graphql_body(ticket_id, PAGE, cursor))
        rest_pages = [
            client.get(gateway.base_url + rest_path.format(PAGE, offset))
            for offset in (0, DEEP_OFFSET)
        ]
    for answer in rest_pages:
        if answer.status_code != 200 or answer.json().get("partial"):
            raise BenchError(f"gateway REST answered {answer.status_code}: {answer.text[:300]}")
    same = [
        [(e["node"]["subject"], e["node"]["url"]) for e in page["edges"]]
        == [(i["subject"], i["url"]) for i in answer.json()["history"]]
        for page, answer in zip((first_page, deep_page), rest_pages, strict=True)
    ]
    if not all(same):
        print(
            f"bench: WARNING: GraphQL and REST pages differ (first, deep): {same}", file=sys.stderr
        )
    workdir = gateway.log.parent
    requests = {
        "graphql-first": ("POST", graphql_load.GRAPHQL_PATH, _graphql_body(ticket_id, PAGE, None)),
        "graphql-deep": ("POST", graphql_load.GRAPHQL_PATH, _graphql_body(ticket_id, PAGE, cursor)),
        "rest-first": ("GET", rest_path.format(PAGE, 0), None),
        "rest-deep": ("GET", rest_path.format(PAGE, DEEP_OFFSET), None),
    }
    results: dict[str, WrkResult] = {}
    for name, (method, path, body) in requests.items():
        lua = workdir / f"{name}.lua"
        lua.write_text(_fixed_lua(method, path, body, credentials))
        print(f"bench: deep history: {name} c=1 for {duration} s", flush=True)
        rest._wrk(gateway, lua, 1, rest.WARMUP_SECONDS, rep=0)
        results[name] = replace(rest._wrk(gateway, lua, 1, duration, rep=1), server=name)
    ratios = {
        api: {
            "requests_per_s": round(
                results[f"{api}-deep"].requests_per_s / results[f"{api}-first"].requests_per_s, 3
            ),
            "p50": round(results[f"{api}-deep"].p50_ms / results[f"{api}-first"].p50_ms, 2),
        }
        for api in ("graphql", "rest")
    }
    return {
        "contract_id": contract_id,
        "ticket_id": ticket_id,
        "tickets": DEEP_TICKETS,
        "total_count": first_page["totalCount"],
        "depth": DEEP_OFFSET,
        "page": PAGE,
        "graphql_query": DEEP_QUERY,
        "graphql_pages_equal_rest": {"first": same[0], "deep": same[1]},
        "runs": {name: asdict(result) for name, result in results.items()},
        "deep_over_first": ratios,
    }


def _fixed_lua(
    method: str, path: str, body: dict[str, Any] | None, credentials: Credentials
) -> str:
    """A wrk script sending one request over and over, counting incomplete answers."""
    headers = dict(credentials.headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    payload = f"[==[{json.dumps(body, separators=(',', ':'))}]==]" if body else "nil"
    condition = graphql_load.INCOMPLETE_LUA if body is not None else rest.PARTIAL_LUA
    return (
        lines + f"local body = {payload}\n"
        f'request = function() return wrk.format("{method}", "{path}", nil, body) end\n'
        + rest.lua_partial_counter(condition)
    )


# --- latency hiding -------------------------------------------------------------------------


def _latency_hiding(
    servers: dict[str, Server],
    ticket_ids: list[int],
    credentials: Credentials,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Gateway and floor REST at c=1 with the simulator adding its latency."""
    lua = servers["gateway"].log.parent / "rest-latency.lua"
    lua.write_text(rest._lua_script(ticket_ids, credentials))
    results = {}
    for name in ("gateway", "floor"):
        print(
            f"bench: billing latency {args.billing_latency_ms} ms: {name} c=1 for "
            f"{args.duration} s",
            flush=True,
        )
        rest._wrk(servers[name], lua, 32, rest.WARMUP_SECONDS, rep=0)
        results[name] = rest._wrk(servers[name], lua, 1, args.duration, rep=1)
    budget = LATENCY_BUDGET * args.billing_latency_ms
    return {
        "billing_latency_ms": args.billing_latency_ms,
        "budget_ms": budget,
        "runs": {name: asdict(result) for name, result in results.items()},
        "gateway_p50_over_latency": round(results["gateway"].p50_ms / args.billing_latency_ms, 3)
        if args.billing_latency_ms
        else None,
    }


# --- report ---------------------------------------------------------------------------------


def _markdown(report: dict[str, Any]) -> str:
    rss = report["rss"]
    lines = [
        f"Peak memory (target: a worker under sustained load < {rss['target_mb']} MB RSS)",
        "",
        "| process | peak VmHWM MB | peak sampled VmRSS MB (tree) | VmHWM MB after each phase |",
        "|---|---|---|---|",
    ]
    for name, peak in rss["peak_vm_hwm_mb"].items():
        phases = "/".join(
            f"{max(p['vm_hwm_kb'] for p in snap['processes'][name].values()) / 1024:.0f}"
            for snap in rss["snapshots"]
        )
        lines.append(f"| {name} | {peak} | {rss['peak_sampled_rss_mb'][name]} | {phases} |")
    lines.append(f"\nPhases: {', '.join(snap['at'] for snap in rss['snapshots'])}.")
    deep = report["deep"]
    lines += [
        "",
        f"Deep history: contract {deep['contract_id']}, {deep['tickets']} tickets, "
        f"totalCount {deep['total_count']}; page of {deep['page']} at depth {deep['depth']} "
        "(c=1)",
        "",
        "| request | req/s | p50 ms | p99 ms | errors | CPU0 busy % |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in deep["runs"].items():
        lines.append(
            f"| {name} | {run['requests_per_s']:.0f} | {run['p50_ms']:.2f} | "
            f"{run['p99_ms']:.1f} | {_errors(run)} | {run['cpu_percent']['server_cpu_busy']} |"
        )
    for api, ratio in deep["deep_over_first"].items():
        target = " (target ≤ 2×)" if api == "graphql" else ""
        lines.append(
            f"\n{api} deep ÷ first: p50 {ratio['p50']:.2f}×{target}, req/s "
            f"{ratio['requests_per_s']:.3f}"
        )
    hiding = report["latency_hiding"]
    lines += [
        "",
        f"Latency hiding: simulator adds {hiding['billing_latency_ms']} ms; "
        f"budget 1.3 × = {hiding['budget_ms']:.0f} ms (REST, c=1)",
        "",
        "| server | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|",
    ]
    for name, run in hiding["runs"].items():
        lines.append(
            f"| {name} | {run['requests_per_s']:.0f} | {run['p50_ms']:.2f} | "
            f"{run['p99_ms']:.1f} | {_errors(run)} |"
        )
    load = report["load"]["summary"]
    lines += [
        "",
        "Sustained load behind the RSS figures (one rep): "
        + "; ".join(
            f"{row['target']} c={row['connections']} {row['requests_per_s']:.0f} req/s"
            for row in load
        )
        + f"; errors {sum(row['errors'] for row in load)}.",
    ]
    return "\n".join(lines)


def _errors(run: dict[str, Any]) -> int:
    """Failed answers of one wrk run: non-2xx, partial, and socket errors."""
    return int(run["non_2xx"] + run["partial"] + sum(run["socket_errors"].values()))


if __name__ == "__main__":
    sys.exit(main())
