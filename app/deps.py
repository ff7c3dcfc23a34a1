"""The only reader of the app's lifespan state, and the per-request dependencies built on it.

`history_service` is where a request becomes a reader of history: authentication plugs in here,
so the REST shim and GraphQL share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import Request

from app.config import Settings
from app.history.loaders import Loaders, Sources
from app.history.service import HistoryService


@dataclass(frozen=True)
class Resources:
    """What the lifespan opens once and every request shares."""

    settings: Settings
    sources: Sources
    http: httpx.AsyncClient


def resources(request: Request) -> Resources:
    found: Resources = request.app.state.resources
    return found


async def history_service(request: Request) -> HistoryService:
    """A history service with fresh loaders, built inside the running loop for this request.

    It is async so that FastAPI runs it on the event loop, never in a worker thread.
    """
    return HistoryService(Loaders(resources(request).sources))
