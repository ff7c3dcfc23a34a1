"""The billing backend's wire format (design §5): the only code that knows its shape."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventKind = Literal["gridMessage", "delivery"]
CounterpartRole = Literal["gridOperator", "previousSupplier", "newSupplier", "meteringOperator"]


class Event(BaseModel):
    """One delivery or grid-market message of a contract."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int = Field(ge=1)
    kind: EventKind
    subject: str
    counterpart_role: CounterpartRole | None = Field(alias="counterpartRole")
    occurred_at: int = Field(alias="occurredAt", ge=0)
    url: str | None


class EventsBatch(BaseModel):
    """Answer of `GET /v1/events?contractId=…`."""

    model_config = ConfigDict(extra="ignore")

    events: dict[str, list[Event]]
    unknown_contract_ids: list[str] = Field(alias="unknownContractIds")
