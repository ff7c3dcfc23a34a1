"""GraphQL and REST ticket history in one run, against the floor and against stock Strawberry.

    .venv/bin/python bench/graphql_load.py [--customers 20000] [--duration 8] [--reps 2]

Everything `bench/rest.py` does (database, token, simulator, gateway, floor, ticket sample, REST
checks; its functions are reused), plus a fourth process: stock Strawberry
(`bench/stock_strawberry.py`, the gateway app with a plain Strawberry schema that has only the
ParserCache and ValidationCache extensions), served like the gateway and pinned to the same CPU.
wrk then drives four targets, each at c=1 and c=32: REST over `rest.py`'s ticket rotation (the
100 largest seeded histories), GraphQL over the newest tickets of `histories.py`'s 100 busy
contracts (150 tickets each, so every `history(first: 100)` page is full):

- floor: `bench/floor.py`, REST;
- gateway-rest: the gateway's REST endpoint;
- gateway-graphql: the gateway's `/graphql`, a POST per ticket with the history query below;
- stock-graphql: the same POSTs to stock Strawberry.

It prints a markdown table and the ratios gateway-graphql ÷ stock-graphql, GraphQL ÷ REST and
REST ÷ floor, and writes everything to bench/results/graphql-<timestamp>.json (never the token).
Every subprocess it starts is stopped on exit, error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shlex
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import histories
import httpx
import rest
from rest import HOST, LOAD_CPU, SERVER_CPU, BenchError, Credentials, Server, WrkResult

GRAPHQL_PATH = "/graphql"
DEFAULT_DURATION = 8  # 4 targets x 2 concurrencies x 2 reps x 8 s: the run stays under 3 min
PAGE = 100
# Every field of every item kind (DeliveryEvent adds none to the interface); `ticket` on
# TicketEvent is a nested object, not an item field, and is left out. `isComplete` is there so
# that answers without the billing events count as errors, as `"partial":true` does for REST.
HISTORY_QUERY = (
    "query History($id: Int!) { ticket(id: $id) { history(first: " + str(PAGE) + ") {"
    " edges { cursor node { __typename id type subject url createdAt"
    " ... on TicketEvent { ticketId channel subChannel status }"
    " ... on GridMessageEvent { counterpartRole } } }"
    " pageInfo { hasNextPage endCursor } totalCount isComplete } } }"
)
# Target name, the server it runs on (a key of `_servers`), and the load it gets.
TARGETS = (
    ("floor", "floor", "rest"),
    ("gateway-rest", "gateway", "rest"),
    ("gateway-graphql", "gateway", "graphql"),
    ("stock-graphql", "stock", "graphql"),
)
# (numerator, denominator) target pairs printed as ratios.
RATIOS = (
    ("gateway-graphql", "stock-graphql"),
    ("gateway-graphql", "gateway-rest"),
    ("stock-graphql", "gateway-rest"),
    ("gateway-rest", "floor"),
    ("gateway-graphql", "floor"),
)
EXTRA_PACKAGES = ("strawberry-graphql", "graphql-core")
# A Lua condition on a wrk answer: a GraphQL answer with errors or without the billing events.
INCOMPLETE_LUA = (
    "string.find(body, '\"errors\"', 1, true) or string.find(body, '\"isComplete\":false', 1, true)"
)


@dataclass(frozen=True)
class GraphQLSample:
    edges: list[int]
    total_counts: list[int]
    body_bytes: list[int]
    bodies_match_stock: bool


def main() -> int:
    return rest.run_main(_parser(), _run)


def _parser() -> argparse.ArgumentParser:
    parser = rest._parser()
    parser.description = __doc__.split("\n\n")[0]
    parser.set_defaults(duration=DEFAULT_DURATION)
    return parser


def _run(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    database_url, prepared, credentials = rest.prepare_run(args)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-gql-")))
        servers = dict(stack.enter_context(rest._servers(args, database_url, workdir)))
        servers["stock"] = stack.enter_context(
            _stock_server(database_url, servers["simulator"].base_url, workdir)
        )
        sample = asyncio.run(rest._pick_tickets(database_url, servers["simulator"].base_url))
        # The REST sample comes from the seeded world, before the busy contracts exist.
        graphql_ids = stack.enter_context(busy_histories(database_url, args.seed))
        bodies_match, rest_bytes = rest._compare_bodies(
            servers["gateway"], servers["floor"], sample.ticket_ids, credentials, database_url
        )
        graphql_sample = _check_graphql(
            servers["gateway"], servers["stock"], graphql_ids, credentials
        )
        scripts = {
            "rest": workdir / "rest.lua",
            "graphql": workdir / "graphql.lua",
        }
        scripts["rest"].write_text(rest._lua_script(sample.ticket_ids, credentials))
        scripts["graphql"].write_text(_graphql_lua(graphql_ids, credentials))
        results = _measure(servers, scripts, args.duration, args.reps)
    finished = datetime.now(UTC)
    summary = _summary(results)
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "command": shlex.join([".venv/bin/python", "bench/graphql_load.py", *sys.argv[1:]]),
        "arguments": rest.run_arguments(args, prepared),
        "auth": {"agent_email": rest.BENCH_AGENT_EMAIL, "token_id": credentials.token_id},
        "machine": rest._machine(),
        "versions": _versions(),
        "graphql_query": HISTORY_QUERY,
        "sample": {
            "tickets": len(sample.ticket_ids),
            "history_items": rest._spread(sample.history_sizes),
            "graphql_tickets": len(graphql_ids),
            "rest_body_bytes": rest._spread(rest_bytes),
            "rest_bodies_match_floor": bodies_match,
            "graphql_edges": rest._spread(graphql_sample.edges),
            "graphql_total_count": rest._spread(graphql_sample.total_counts),
            "graphql_body_bytes": rest._spread(graphql_sample.body_bytes),
            "graphql_bodies_match_stock": graphql_sample.bodies_match_stock,
        },
        "runs": [asdict(result) for result in results],
        "summary": summary,
        "ratios": _ratios(summary),
    }
    path = _write_report(report, started)
    print(_markdown(report))
    print(f"\nJSON: {path.relative_to(rest.BENCH_DIR.parent)}")
    return 0


@contextmanager
def busy_histories(database_url: str, seed: int) -> Iterator[list[int]]:
    """The GraphQL rotation: the newest ticket of each busy contract, whose page of 100 is full."""
    tickets = dict.fromkeys(histories.busy_contract_ids(), histories.BUSY_TICKETS)
    with histories.added_contracts(database_url, seed, tickets) as newest:
        yield newest


# --- stock Strawberry -----------------------------------------------------------------------


@contextmanager
def _stock_server(database_url: str, billing_url: str, workdir: Path) -> Iterator[Server]:
    """bench/stock_strawberry.py with the gateway's environment, on the server CPU."""
    port = rest._free_port()
    env = {
        "DATABASE_URL": database_url,
        "BILLING_URL": billing_url,
        "BILLING_API_KEY": rest.BILLING_API_KEY,
        **rest.GATEWAY_BENCH_SETTINGS,
        "SESSION_SECRETS": secrets.token_urlsafe(48),
    }
    command = [
        "taskset", "-c", SERVER_CPU, sys.executable, str(rest.BENCH_DIR / "stock_strawberry.py"),
        "--host", HOST, "--port", str(port),
    ]  # fmt: skip
    server = rest._start("stock", port, command, env, workdir)
    try:
        rest._wait_until_answering(server)
        yield server
    finally:
        rest._stop(server.process)


# --- checks and load ------------------------------------------------------------------------


def _request_body(ticket_id: int) -> dict[str, Any]:
    return {"query": HISTORY_QUERY, "variables": {"id": ticket_id}}


def _check_graphql(
    gateway: Server, stock: Server, ticket_ids: list[int], credentials: Credentials
) -> GraphQLSample:
    """Both GraphQL servers refuse the query without the token and answer every ticket in full.

    A complete answer is 200 with `data`, no `errors` and `isComplete: true`; anything else ends
    the run. The two servers' bodies are compared; a difference is a warning.
    """
    answers: dict[str, list[httpx.Response]] = {}
    with httpx.Client(timeout=10.0) as client:
        for server in (gateway, stock):
            url = server.base_url + GRAPHQL_PATH
            refused = client.post(url, json=_request_body(ticket_ids[0]))
            if refused.status_code == 200 and '"errors"' not in refused.text:
                raise BenchError(f"{server.name} answered the query without a token")
            answers[server.name] = []
            for ticket_id in ticket_ids:
                response = client.post(
                    url, json=_request_body(ticket_id), headers=credentials.headers
                )
                body = response.json() if response.status_code == 200 else {}
                history = ((body.get("data") or {}).get("ticket") or {}).get("history")
                if "errors" in body or not history or not history["isComplete"]:
                    raise BenchError(
                        f"{server.name} answered ticket {ticket_id} with "
                        f"{response.status_code}: {response.text[:300]}\n"
                        f"{server.name} log:\n{server.log_tail()}"
                    )
                answers[server.name].append(response)
    mismatches = [
        ticket_id
        for ticket_id, ours, theirs in zip(
            ticket_ids, answers[gateway.name], answers[stock.name], strict=True
        )
        if ours.json() != theirs.json()
    ]
    if mismatches:
        print(
            f"bench: WARNING: gateway and stock GraphQL bodies differ for {len(mismatches)} "
            f"tickets (e.g. {mismatches[:5]})",
            file=sys.stderr,
        )
    histories = [r.json()["data"]["ticket"]["history"] for r in answers[gateway.name]]
    return GraphQLSample(
        edges=[len(history["edges"]) for history in histories],
        total_counts=[history["totalCount"] for history in histories],
        body_bytes=[len(r.content) for r in answers[gateway.name]],
        bodies_match_stock=not mismatches,
    )


def _graphql_lua(ticket_ids: list[int], credentials: Credentials) -> str:
    """A wrk script POSTing the history query for the sampled tickets in turn, with the token.

    It counts 200 answers that carry `errors` or `"isComplete":false` and prints them as
    `Partial answers: N`, the line rest.py's parser reads.
    """
    ids = ", ".join(str(ticket_id) for ticket_id in ticket_ids)
    marker = 999_999_999_999
    prefix, suffix = json.dumps(_request_body(marker), separators=(",", ":")).split(str(marker))
    headers = {**credentials.headers, "Content-Type": "application/json"}
    lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    return (
        lines + 'wrk.method = "POST"\n'
        f"local ids = {{{ids}}}\n"
        f"local prefix = [==[{prefix}]==]\n"
        f"local suffix = [==[{suffix}]==]\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #ids + 1\n"
        f'  return wrk.format("POST", "{GRAPHQL_PATH}", nil, prefix .. ids[n] .. suffix)\n'
        "end\n" + rest.lua_partial_counter(INCOMPLETE_LUA)
    )


def _measure(
    servers: dict[str, Server], scripts: dict[str, Path], duration: int, reps: int
) -> list[WrkResult]:
    """Warm every target up at c=32, then c=1 and c=32 per rep, alternating the order."""

    def run(target: tuple[str, str, str], connections: int, seconds: int, rep: int) -> WrkResult:
        name, server, load = target
        result = rest._wrk(servers[server], scripts[load], connections, seconds, rep=rep)
        return replace(result, server=name)

    for target in TARGETS:
        print(f"bench: warm-up {target[0]} ({rest.WARMUP_SECONDS} s, c=32)", flush=True)
        run(target, 32, rest.WARMUP_SECONDS, 0)
    results = []
    for rep in range(1, reps + 1):
        for round_no, connections in enumerate(rest.CONNECTIONS):
            order = TARGETS if (rep + round_no) % 2 else tuple(reversed(TARGETS))
            for target in order:
                print(
                    f"bench: rep {rep}: {target[0]} c={connections} for {duration} s "
                    f"(wrk on CPU {LOAD_CPU})",
                    flush=True,
                )
                results.append(run(target, connections, duration, rep))
    return results


# --- report ---------------------------------------------------------------------------------


def _summary(results: list[WrkResult]) -> list[dict[str, Any]]:
    return [
        {
            "target": name,
            **rest.summary_row(
                [r for r in results if r.server == name and r.connections == connections]
            ),
        }
        for connections in rest.CONNECTIONS
        for name, _, _ in TARGETS
    ]


def _ratios(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Numerator over denominator per concurrency: req/s (higher is better), latencies (lower)."""

    def row(name: str, connections: int) -> dict[str, Any]:
        return next(r for r in summary if r["target"] == name and r["connections"] == connections)

    ratios = []
    for numerator, denominator in RATIOS:
        for connections in rest.CONNECTIONS:
            top, bottom = row(numerator, connections), row(denominator, connections)
            ratios.append(
                {
                    "ratio": f"{numerator} ÷ {denominator}",
                    "connections": connections,
                    "requests_per_s": round(top["requests_per_s"] / bottom["requests_per_s"], 3),
                    "requests_per_s_by_rep": [
                        round(t / b, 3)
                        for t, b in zip(
                            top["requests_per_s_by_rep"],
                            bottom["requests_per_s_by_rep"],
                            strict=True,
                        )
                    ],
                    "p50": round(top["p50_ms"] / bottom["p50_ms"], 2),
                    "p99": round(top["p99_ms"] / bottom["p99_ms"], 2),
                }
            )
    return ratios


def _versions() -> dict[str, str]:
    versions = rest._versions()
    for package in EXTRA_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def _write_report(report: dict[str, Any], started: datetime) -> Path:
    rest.RESULTS_DIR.mkdir(exist_ok=True)
    path = rest.RESULTS_DIR / f"graphql-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def _markdown(report: dict[str, Any]) -> str:
    def each(values: list[float], digits: int) -> str:
        return "/".join(f"{value:.{digits}f}" for value in values)

    lines = [
        "| target | c | req/s mean (each rep) | p50 ms (each rep) | p99 ms (each rep) "
        "| errors | CPU0 busy % | CPU1 busy % | steal % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["summary"]:
        cpu = row["cpu_percent"]
        lines.append(
            f"| {row['target']} | {row['connections']} "
            f"| {row['requests_per_s']:.0f} ({each(row['requests_per_s_by_rep'], 0)}) "
            f"| {each(row['p50_ms_by_rep'], 2)} | {each(row['p99_ms_by_rep'], 1)} "
            f"| {row['errors']} | {cpu['server_cpu_busy']} | {cpu['load_cpu_busy']} "
            f"| {cpu['steal']} |"
        )
    lines += ["", "| ratio | c | req/s (each rep) | p50 | p99 |", "|---|---|---|---|---|"]
    for ratio in report["ratios"]:
        lines.append(
            f"| {ratio['ratio']} | {ratio['connections']} | {ratio['requests_per_s']:.3f} "
            f"({each(ratio['requests_per_s_by_rep'], 3)}) "
            f"| {ratio['p50']:.2f}× | {ratio['p99']:.2f}× |"
        )
    sample = report["sample"]
    lines += [
        "",
        f"REST: {sample['tickets']} tickets rotated, history items per ticket "
        f"{rest._spread_text(sample['history_items'])}. GraphQL: {sample['graphql_tickets']} "
        "tickets of busy contracts rotated, edges "
        f"{rest._spread_text(sample['graphql_edges'])}, GraphQL body bytes "
        f"{rest._spread_text(sample['graphql_body_bytes'])}, REST body bytes "
        f"{rest._spread_text(sample['rest_body_bytes'])}; REST bodies equal to the floor's: "
        f"{'yes' if sample['rest_bodies_match_floor'] else 'NO'}; GraphQL bodies equal to "
        f"stock Strawberry's: {'yes' if sample['graphql_bodies_match_stock'] else 'NO'}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
