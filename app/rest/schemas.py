"""Response models of the REST shim, for the OpenAPI document (bodies are built with orjson)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.errors import ErrorCode


class HistoryItemOut(BaseModel):
    id: int | None = Field(description="Ticket id; null for billing events.")
    type: Literal["ticket", "delivery", "gridMessage"]
    channel: str | None
    subChannel: str | None = Field(
        description="Subchannel key of a ticket, or the counterpart role of a grid message."
    )
    status: str | None = Field(description="The ticket's status as stored; null for events.")
    subject: str | None
    url: str | None
    createdAt: int = Field(description="Unix seconds.")


class Warning(BaseModel):
    source: Literal["billing"]
    code: Literal[
        ErrorCode.UPSTREAM_TIMEOUT, ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.UPSTREAM_BAD_RESPONSE
    ]
    message: str


class HistoryResponse(BaseModel):
    success: Literal[True]
    total: int = Field(description="Items in the whole history that this answer could see.")
    totalOpenedTickets: int = Field(
        description="Open or pending tickets of the history, other than the ticket asked about."
    )
    history: list[HistoryItemOut]
    partial: Literal[True] | None = Field(
        default=None, description="Present only when a source failed: billing events are missing."
    )
    warnings: list[Warning] | None = Field(
        default=None, description="Present only with `partial`: which source failed and why."
    )


class ErrorResponse(BaseModel):
    success: Literal[False]
    code: ErrorCode
    error: str = Field(description="A human-readable message, safe to show.")
