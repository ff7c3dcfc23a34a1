"""The per-request GraphQL context: the history service the resolvers read through."""

from __future__ import annotations

from typing import Annotated

import strawberry
from fastapi import Depends
from strawberry.fastapi import BaseContext

from app.deps import history_service
from app.history.service import HistoryService


class Context(BaseContext):
    def __init__(self, history: HistoryService) -> None:
        super().__init__()
        self.history = history


Info = strawberry.Info[Context, None]


async def get_context(history: Annotated[HistoryService, Depends(history_service)]) -> Context:
    return Context(history)
