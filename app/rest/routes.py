"""`GET /api/mind/ticket/{ticketId}/history`: the documented Enneo endpoint, to the letter."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from app.deps import current_agent, history_service
from app.errors import BadUserInput
from app.history.model import INT32_MAX, HistoryItem, HistoryPage
from app.history.service import HistoryService
from app.rest.body import json_response
from app.rest.schemas import ErrorResponse, HistoryResponse

router = APIRouter(prefix="/api/mind")

_INTEGER_PARAMETERS = frozenset({"ticketId", "limit", "offset"})
_INTEGER_LITERAL = re.compile(r"[+-]?[0-9]+")


async def _integer_literals(request: Request) -> None:
    """Refuse what lax integer parsing would accept, such as "1.0", before FastAPI parses it."""
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if name in _INTEGER_PARAMETERS and not _INTEGER_LITERAL.fullmatch(value):
            raise BadUserInput(
                f"{name}: Input should be a valid integer, unable to parse string as an integer"
            )


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "`BAD_USER_INPUT`: a parameter is invalid."},
    401: {
        "model": ErrorResponse,
        "description": "`UNAUTHENTICATED`: no valid session cookie or API token.",
    },
    404: {"model": ErrorResponse, "description": "`NOT_FOUND`: no such ticket."},
    429: {
        "model": ErrorResponse,
        "description": "`RATE_LIMITED`: over the session's or token's budget (`Retry-After`).",
    },
    500: {"model": ErrorResponse, "description": "`INTERNAL`: unexpected error."},
    503: {
        "model": ErrorResponse,
        "description": "`SERVICE_UNAVAILABLE`: the helpdesk database or session store is down.",
    },
}


@router.get(
    "/ticket/{ticketId}/history",
    operation_id="getTicketHistory",
    summary="Get a tickets history",
    tags=["Ticket"],
    # Authentication first: a request without credentials learns nothing, not even about its input.
    dependencies=[Depends(current_agent), Depends(_integer_literals)],
    response_model=HistoryResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
    description=(
        "The customer's tickets merged with the billing events of their contract, newest first. "
        "When the billing backend fails the answer is still 200, with the helpdesk items, "
        "`partial: true` and `warnings`."
    ),
)
async def ticket_history(
    request: Request,
    history: Annotated[HistoryService, Depends(history_service)],
    ticket_id: Annotated[int, Path(alias="ticketId", description="The id of the ticket")],
    limit: Annotated[int, Query(ge=1, le=1000, description="The number of items to return")] = 100,
    offset: Annotated[
        int, Query(ge=0, le=INT32_MAX, description="The number of items to skip")
    ] = 0,
) -> Response:
    page = await history.ticket_history_at_offset(ticket_id, offset=offset, limit=limit)
    return json_response(
        _body(page),
        headers={"X-Total-Count": str(page.total), **_link_header(request, page, offset, limit)},
    )


def _item(item: HistoryItem) -> dict[str, object]:
    return {
        "id": item.source_id if item.type == "ticket" else None,
        "type": item.type.value,
        "channel": item.channel,
        "subChannel": item.sub_channel,
        "status": item.status,
        "subject": item.subject,
        "url": item.url,
        "createdAt": item.created_at,
    }


def _body(page: HistoryPage) -> dict[str, object]:
    body: dict[str, object] = {
        "success": True,
        "total": page.total,
        "totalOpenedTickets": page.opened_tickets,
        "history": [_item(item) for item in page.items],
    }
    if not page.is_complete:
        body["partial"] = True
        body["warnings"] = [
            {"source": w.source, "code": w.code.value, "message": w.message} for w in page.warnings
        ]
    return body


def _link_header(request: Request, page: HistoryPage, offset: int, limit: int) -> dict[str, str]:
    """RFC 8288 links to the neighbouring pages, as references relative to the request's URL
    (never built from its Host header, which a client chooses)."""
    links = []
    if offset + limit < page.total:
        links.append((offset + limit, "next"))
    if offset > 0:
        links.append((max(0, min(offset, page.total) - limit), "prev"))
    if not links:
        return {}
    urls = [(request.url.include_query_params(limit=limit, offset=n), rel) for n, rel in links]
    return {"Link": ", ".join(f'<{url.path}?{url.query}>; rel="{rel}"' for url, rel in urls)}
