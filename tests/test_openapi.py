"""The OpenAPI document describes the REST shim truthfully: parameters, bodies, errors, no 422."""

from __future__ import annotations

from tests.conftest import Deployment


async def test_history_operation_is_documented_exactly(scratch: Deployment) -> None:
    document = (await scratch.client.get("/openapi.json")).json()
    operation = document["paths"]["/api/mind/ticket/{ticketId}/history"]["get"]

    params = {p["name"]: (p["in"], p["required"], p["schema"]) for p in operation["parameters"]}
    assert params["ticketId"][:2] == ("path", True)
    assert params["ticketId"][2]["type"] == "integer"
    assert params["limit"][2]["minimum"] == 1
    assert params["limit"][2]["maximum"] == 1000
    assert params["limit"][2]["default"] == 100
    assert params["offset"][2]["minimum"] == 0
    assert params["offset"][2]["default"] == 0
    assert sorted(operation["responses"]) == ["200", "400", "401", "404", "429", "500", "503"]
    assert operation["security"] == [{"APIKeyCookie": []}, {"HTTPBearer": []}]
    cookie = document["components"]["securitySchemes"]["APIKeyCookie"]
    assert (cookie["in"], cookie["name"]) == ("cookie", "connect.sid")
    assert "HTTPValidationError" not in document["components"]["schemas"]

    body = document["components"]["schemas"]["HistoryResponse"]
    assert list(body["properties"]) == [
        "success", "total", "totalOpenedTickets", "history", "partial", "warnings",
    ]  # fmt: skip
    assert body["required"] == ["success", "total", "totalOpenedTickets", "history"]
    item = document["components"]["schemas"]["HistoryItemOut"]
    assert list(item["properties"]) == [
        "id", "type", "channel", "subChannel", "status", "subject", "url", "createdAt",
    ]  # fmt: skip
    error = document["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["success", "code", "error"]
