"""Posting GraphQL the way an SPA does, and reading timelines out of the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

NODE_FIELDS = """
    __typename id type subject url createdAt
    ... on TicketEvent { ticketId channel subChannel status }
    ... on GridMessageEvent { counterpartRole }
"""

_REST_TYPE = {"TICKET": "ticket", "GRID_MESSAGE": "gridMessage", "DELIVERY": "delivery"}


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables or {}})


async def data_of(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `data` of a successful answer (no errors allowed)."""
    response = await post(client, query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def as_rest_item(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL history node in the REST shim's item shape, to compare the two transports."""
    kind = _REST_TYPE[node["type"]]
    return {
        "id": node["ticketId"] if kind == "ticket" else None,
        "type": kind,
        "channel": node.get("channel"),
        "subChannel": node["subChannel"] if kind == "ticket" else node.get("counterpartRole"),
        "status": node.get("status"),
        "subject": node["subject"],
        "url": node["url"],
        "createdAt": int(datetime.fromisoformat(node["createdAt"]).timestamp()),
    }


WHOLE_HISTORY = (
    "query($id: Int!) { ticket(id: $id) { history(first: 1000) { nodes { "
    + NODE_FIELDS
    + " } totalCount openedTicketCount isComplete } } }"
)
