"""The gateway's Prometheus metrics (definitions only: `app.ops.metrics_route` serves them).

With several workers (`serve --workers N`) each process writes its samples to
PROMETHEUS_MULTIPROC_DIR, which the `serve` command sets; gauges say how to combine workers.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "history_gateway_http_requests_total", "HTTP requests answered.", ["route", "status"]
)
LATENCY = Histogram(
    "history_gateway_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL_OPERATIONS = Counter(
    "history_gateway_graphql_operations_total", "GraphQL operations run, by name.", ["operation"]
)
GRAPHQL_PLANS = Counter(
    "history_gateway_graphql_plans_total",
    "Completion plans made for a document's objects (compiled or unsupported), and plans that "
    "met a value they do not handle (fallback: graphql-core completed the object).",
    ["outcome"],
)
BILLING_CALLS = Counter(
    "history_gateway_billing_calls_total",
    "Billing calls by outcome (ok, a warning code, or not_asked).",
    ["outcome"],
)
BILLING_CACHE_LOOKUPS = Counter(
    "history_gateway_billing_cache_lookups_total",
    "Contracts looked up in the billing events cache, by result (hit or miss).",
    ["result"],
)
BREAKER_STATE = Gauge(
    "history_gateway_billing_breaker_state",
    "Billing circuit breaker: 0 closed, 1 half-open, 2 open (the worst worker's).",
    multiprocess_mode="max",
)
LOADER_BATCH_SIZE = Histogram(
    "history_gateway_loader_batch_size",
    "Keys per DataLoader batch.",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100),
)
DB_CONNECTIONS_IN_USE = Gauge(
    "history_gateway_db_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
GRAPHQL_ERRORS = Counter(
    "history_gateway_graphql_errors_total",
    "GraphQL errors answered, by code (only INTERNAL is logged as an error).",
    ["code"],
)
