"""The performance benchmark in one command: throughput against two baselines, memory, deep
pages, latency hiding, batching counts and the billing cache.

    .venv/bin/python bench/run.py [--customers 20000] [--duration 6] [--reps 2] [--reuse]

Reuses `bench/rest.py` and `bench/graphql_load.py` (database, token, servers, checks, wrk) and
`bench/histories.py` (contracts with long histories, added for the run and removed after it).

1. Throughput and peak RSS: the simulator (no added latency), the gateway, the floor and stock
   Strawberry; `graphql_load`'s checks and its four targets at c=1 and c=32 (`--reps` times):
   REST over the 100 largest seeded histories, GraphQL `history(first: 100)` with every item
   field over 100 busy contracts (full pages). A thread samples each process tree's VmRSS;
   VmHWM (the kernel's peak) is read after each phase.
2. Deep history: one contract of DEEP_TICKETS tickets. wrk at c=1 measures GraphQL
   `history(first: 100)` against the same page after the cursor at depth DEEP_OFFSET (found by
   walking), and REST `limit=100&offset=0` against `offset=DEEP_OFFSET`.
3. Batching: a gateway with DEBUG_COUNTERS=true answers `tickets(ids:)` x `history(first: 10)`
   with each ticket item's linked ticket and contract for 1, 10, 50 and 100 tickets; its
   X-SQL-Statements and X-Billing-Calls headers are printed.
4. Latency hiding: the simulator adds `--billing-latency-ms` (default 50); gateway and floor REST
   at c=1, p50 against 1.3 x that; then the gateway again with BILLING_CACHE_SECONDS=5 (the
   cache's effect: the 100 rotated tickets hit it after the first round).

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

import graphql_load
import histories
import httpx
import rest
from rest import BenchError, Credentials, Server, WrkResult

DEFAULT_DURATION = 6  # seconds per measurement: the whole run stays near 5 minutes
DEFAULT_LATENCY_MS = 50
LATENCY_BUDGET = 1.3  # the issue: p50 within 1.3 x the billing latency at c=1
CACHE_SECONDS = 5
RSS_TARGET_MB = 200
RSS_SAMPLE_SECONDS = 0.2
DEEP_OFFSET = 9_000
PAGE = graphql_load.PAGE
WALK_PAGE = 1000  # the largest `first` the schema allows: 9 requests to reach depth 9000
BATCH_SIZES = (1, 10, 50, 100)
_ONE_PAGE = f"history(first: {PAGE})"
if _ONE_PAGE not in graphql_load.HISTORY_QUERY:
    raise RuntimeError("graphql_load.HISTORY_QUERY no longer asks for history(first: PAGE)")
# graphql_load's selection, with the page size and the cursor as variables.
DEEP_QUERY = graphql_load.HISTORY_QUERY.replace(
    "($id: Int!)", "($id: Int!, $first: Int!, $after: String)"
).replace(_ONE_PAGE, "history(first: $first, after: $after)")
# The batching test's query (tests/test_graphql_world.py): linked tickets and their contracts.
BATCH_QUERY = (
    "query($ids: [Int!]!) { tickets(ids: $ids) { id history(first: 10) { totalCount nodes {"
    " id type createdAt ... on TicketEvent { ticket { subject contract { id } } } } } } }"
)


def main() -> int:
    return rest.run_main(_parser(), _run)


def _parser() -> argparse.ArgumentParser:
    parser = rest._parser()
    parser.description = __doc__.split("\n\n")[0]
    # --billing-latency-ms is the latency phase's; the other phases run with none.
    parser.set_defaults(duration=DEFAULT_DURATION, billing_latency_ms=DEFAULT_LATENCY_MS)
    return parser


def _run(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    database_url, prepared, credentials = rest.prepare_run(args)
    no_latency = argparse.Namespace(**{**vars(args), "billing_latency_ms": 0})
    counting = argparse.Namespace(**{**vars(no_latency), "debug_counters": True})
    with_latency = argparse.Namespace(**vars(args))
    cached = argparse.Namespace(**{**vars(args), "billing_cache_seconds": CACHE_SECONDS})
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": shlex.join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
        "arguments": rest.run_arguments(args, prepared),
        "auth": {"agent_email": rest.BENCH_AGENT_EMAIL, "token_id": credentials.token_id},
        "machine": rest._machine(),
        "versions": graphql_load._versions(),
    }
    deep = {histories.deep_contract_id(): histories.DEEP_TICKETS}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-perf-")))
        with ExitStack() as phase:
            servers = dict(phase.enter_context(rest._servers(no_latency, database_url, workdir)))
            servers["stock"] = phase.enter_context(
                graphql_load._stock_server(database_url, servers["simulator"].base_url, workdir)
            )
            memory = phase.enter_context(_rss_sampler(servers))
            memory.snapshot("started")
            # The REST sample comes from the seeded world, before the busy contracts exist.
            sample = asyncio.run(rest._pick_tickets(database_url, servers["simulator"].base_url))
            graphql_ids = stack.enter_context(graphql_load.busy_histories(database_url, args.seed))
            report["load"] = _sustained_load(
                servers, sample, graphql_ids, credentials, database_url, args
            )
            memory.snapshot("after sustained load")
            (deep_ticket,) = phase.enter_context(
                histories.added_contracts(database_url, args.seed, deep)
            )
            report["deep"] = _deep_pages(
                servers["gateway"], deep_ticket, credentials, args.duration
            )
            memory.snapshot("after deep pages")
            report["rss"] = memory.report()
        with rest._servers(counting, database_url, workdir) as servers:
            report["batching"] = _batching(servers["gateway"], credentials)
        with rest._servers(with_latency, database_url, workdir) as servers:
            report["latency_hiding"] = _latency_hiding(
                servers, sample.ticket_ids, credentials, args
            )
        with rest._servers(cached, database_url, workdir) as servers:
            report["latency_hiding"]["runs"]["gateway, cache on"] = _rest_c1(
                servers["gateway"], sample.ticket_ids, credentials, args
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
    graphql_ids: list[int],
    credentials: Credentials,
    database_url: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """graphql_load's checks and its four targets at c=1 and c=32, `--reps` times."""
    bodies_match, rest_bytes = rest._compare_bodies(
        servers["gateway"], servers["floor"], sample.ticket_ids, credentials, database_url
    )
    graphql_sample = graphql_load._check_graphql(
        servers["gateway"], servers["stock"], graphql_ids, credentials
    )
    workdir = servers["gateway"].log.parent
    scripts = {"rest": workdir / "rest.lua", "graphql": workdir / "graphql.lua"}
    scripts["rest"].write_text(rest._lua_script(sample.ticket_ids, credentials))
    scripts["graphql"].write_text(graphql_load._graphql_lua(graphql_ids, credentials))
    results = graphql_load._measure(servers, scripts, args.duration, reps=args.reps)
    summary = graphql_load._summary(results)
    return {
        "sample": {
            "tickets": len(sample.ticket_ids),
            "history_items": rest._spread(sample.history_sizes),
            "rest_body_bytes": rest._spread(rest_bytes),
            "rest_bodies_match_floor": bodies_match,
            "graphql_tickets": len(graphql_ids),
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
    gateway: Server, ticket_id: int, credentials: Credentials, duration: int
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
        "contract_id": histories.deep_contract_id(),
        "ticket_id": ticket_id,
        "tickets": histories.DEEP_TICKETS,
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
    runs = {
        name: _rest_c1(servers[name], ticket_ids, credentials, args)
        for name in ("gateway", "floor")
    }
    return {
        "billing_latency_ms": args.billing_latency_ms,
        "budget_ms": LATENCY_BUDGET * args.billing_latency_ms,
        "cache_seconds": CACHE_SECONDS,
        "runs": runs,
        "gateway_p50_over_latency": round(runs["gateway"]["p50_ms"] / args.billing_latency_ms, 3)
        if args.billing_latency_ms
        else None,
    }


def _rest_c1(
    server: Server, ticket_ids: list[int], credentials: Credentials, args: argparse.Namespace
) -> dict[str, Any]:
    lua = server.log.parent / f"rest-c1-{server.name}.lua"
    lua.write_text(rest._lua_script(ticket_ids, credentials))
    print(
        f"bench: billing latency {args.billing_latency_ms} ms: {server.name} c=1 for "
        f"{args.duration} s",
        flush=True,
    )
    rest._wrk(server, lua, 32, rest.WARMUP_SECONDS, rep=0)
    return asdict(rest._wrk(server, lua, 1, args.duration, rep=1))


# --- batching -------------------------------------------------------------------------------


def _batching(gateway: Server, credentials: Credentials) -> list[dict[str, Any]]:
    """SQL statements and billing calls of one `tickets` x `history(first: 10)` query."""
    rows = []
    with httpx.Client(timeout=30.0, headers=credentials.headers) as client:
        for count in BATCH_SIZES:
            body = {"query": BATCH_QUERY, "variables": {"ids": list(range(1, count + 1))}}
            answer = client.post(gateway.base_url + graphql_load.GRAPHQL_PATH, json=body)
            if answer.status_code != 200 or "errors" in answer.json():
                raise BenchError(
                    f"batching query answered {answer.status_code}: {answer.text[:300]}"
                )
            rows.append(
                {
                    "tickets": count,
                    "sql_statements": int(answer.headers["X-SQL-Statements"]),
                    "billing_calls": int(answer.headers["X-Billing-Calls"]),
                }
            )
    print(f"bench: batching: {rows}", flush=True)
    return rows


# --- report ---------------------------------------------------------------------------------


def _markdown(report: dict[str, Any]) -> str:
    load = report["load"]
    lines = [
        "Throughput (no added billing latency; REST over the 100 largest seeded histories, "
        "GraphQL `history(first: 100)` over 100 busy contracts)",
        "",
        graphql_load._markdown(load),
        "",
        f"Peak memory (target: a worker under sustained load < {report['rss']['target_mb']} MB)",
        "",
        "| process | peak VmHWM MB | peak sampled VmRSS MB (tree) | VmHWM MB after each phase |",
        "|---|---|---|---|",
    ]
    rss = report["rss"]
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
    lines += [
        "",
        "Batching: `tickets(ids:)` × `history(first: 10)` with linked tickets and contracts",
        "",
        "| tickets | SQL statements | billing calls |",
        "|---|---|---|",
        *(
            f"| {row['tickets']} | {row['sql_statements']} | {row['billing_calls']} |"
            for row in report["batching"]
        ),
    ]
    hiding = report["latency_hiding"]
    lines += [
        "",
        f"Latency hiding: simulator adds {hiding['billing_latency_ms']} ms; "
        f"budget 1.3 × = {hiding['budget_ms']:.0f} ms (REST, c=1); the last row has "
        f"BILLING_CACHE_SECONDS={hiding['cache_seconds']}",
        "",
        "| server | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|",
    ]
    for name, run in hiding["runs"].items():
        lines.append(
            f"| {name} | {run['requests_per_s']:.0f} | {run['p50_ms']:.2f} | "
            f"{run['p99_ms']:.1f} | {_errors(run)} |"
        )
    return "\n".join(lines)


def _errors(run: dict[str, Any]) -> int:
    """Failed answers of one wrk run: non-2xx, partial, and socket errors."""
    return int(run["non_2xx"] + run["partial"] + sum(run["socket_errors"].values()))


if __name__ == "__main__":
    sys.exit(main())
