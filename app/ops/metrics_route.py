"""`/metrics`: every worker's samples in Prometheus' text format, behind METRICS_TOKEN.

A scrape that lands on any worker sees the whole service (multiprocess mode). `/metrics` needs
`Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN it does not exist.
"""

from __future__ import annotations

import hmac
import os
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from app.deps import Resources, resources
from app.errors import ErrorCode
from app.rest.errors import error_response

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request, shared: Annotated[Resources, Depends(resources)]) -> Response:
    token = shared.settings.metrics_token
    if token is None:
        return error_response(ErrorCode.NOT_FOUND, "Not Found")
    offered = request.headers.get("authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return error_response(ErrorCode.UNAUTHENTICATED, "The metrics token is required.")
    return Response(_exposition(), media_type=CONTENT_TYPE_LATEST)


def _exposition() -> bytes:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
