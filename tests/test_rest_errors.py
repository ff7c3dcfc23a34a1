"""Bad input and failing parts get a clear, coded answer on the REST shim: never a 422 or a 500."""

from __future__ import annotations

import pytest

from app.deps import history_service
from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.billing_admin import BillingAdmin
from tests.support.factories import Factory

INT32_MAX = 2**31 - 1


def error_body(code: str, message: str) -> dict[str, object]:
    return {"success": False, "code": code, "error": message}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: Input should be greater than or equal to 1"),
        ("limit=1001", "limit: Input should be less than or equal to 1000"),
        (
            "limit=ten",
            "limit: Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            "limit=1.5",
            "limit: Input should be a valid integer, unable to parse string as an integer",
        ),
        ("offset=-1", "offset: Input should be greater than or equal to 0"),
        (
            "offset=x",
            "offset: Input should be a valid integer, unable to parse string as an integer",
        ),
        (f"offset={INT32_MAX + 1}", f"offset: Input should be less than or equal to {INT32_MAX}"),
        (f"offset={10**30}", f"offset: Input should be less than or equal to {INT32_MAX}"),
    ],
)
async def test_invalid_paging_is_400_bad_user_input(
    scratch: Deployment, factory: Factory, query: str, message: str
) -> None:
    ticket = await factory.ticket()

    response = await scratch.client.get(f"/api/mind/ticket/{ticket}/history?{query}")

    assert response.status_code == 400
    assert response.json() == error_body("BAD_USER_INPUT", message)


@pytest.mark.parametrize("ticket_id", ["abc", "1.0", "1e3", "%20"])
async def test_non_integer_ticket_id_is_400(scratch: Deployment, ticket_id: str) -> None:
    response = await scratch.client.get(f"/api/mind/ticket/{ticket_id}/history")

    assert response.status_code == 400
    assert response.json() == error_body(
        "BAD_USER_INPUT",
        "ticketId: Input should be a valid integer, unable to parse string as an integer",
    )


@pytest.mark.parametrize("ticket_id", [0, -5, 99_999_999, INT32_MAX, INT32_MAX + 1, 10**30])
async def test_unknown_or_out_of_range_ticket_is_404(scratch: Deployment, ticket_id: int) -> None:
    response = await scratch.client.get(f"/api/mind/ticket/{ticket_id}/history")

    assert response.status_code == 404
    assert response.json() == error_body("NOT_FOUND", f"Ticket {ticket_id} does not exist.")
    assert response.headers["Cache-Control"] == "no-store"


async def test_unknown_route_uses_the_same_error_shape(scratch: Deployment) -> None:
    response = await scratch.client.get("/api/mind/ticket/1/nothing")

    assert response.status_code == 404
    assert response.json() == error_body("NOT_FOUND", "Not Found")


async def test_request_id_is_echoed_when_plain_and_replaced_otherwise(
    scratch: Deployment, factory: Factory
) -> None:
    ticket = await factory.ticket()
    path = f"/api/mind/ticket/{ticket}/history"

    plain = await scratch.client.get(path, headers={"X-Request-ID": "req-42.a_b"})
    hostile = await scratch.client.get(path, headers={"X-Request-ID": "x" * 129})
    missing = await scratch.client.get(path)

    assert plain.headers["X-Request-ID"] == "req-42.a_b"
    assert len(hostile.headers["X-Request-ID"]) == 32
    assert hostile.headers["X-Request-ID"] != missing.headers["X-Request-ID"]


async def test_unexpected_errors_are_masked_with_the_request_id(
    scratch: Deployment, billing_url: str, factory: Factory
) -> None:
    ticket = await factory.ticket()

    class Exploding:
        async def ticket_history_at_offset(self, *_args: object, **_kwargs: object) -> None:
            raise KeyError("SELECT secret FROM internals")

    app = create_app(gateway_settings(scratch.database_url, billing_url))
    app.dependency_overrides[history_service] = Exploding
    async with serving(app, scratch.token) as client:
        response = await client.get(
            f"/api/mind/ticket/{ticket}/history", headers={"X-Request-ID": "trace-1"}
        )

    assert response.status_code == 500
    assert response.json() == error_body(
        "INTERNAL", "Unexpected error. Quote request id trace-1 when reporting it."
    )


async def test_unreachable_database_is_503_service_unavailable(
    unreachable_database_url: str, billing_url: str, billing: BillingAdmin
) -> None:
    settings = gateway_settings(unreachable_database_url, billing_url)
    async with serving(create_app(settings), token="any-token") as client:
        response = await client.get("/api/mind/ticket/1/history")

    assert response.status_code == 503
    assert response.json() == error_body(
        "SERVICE_UNAVAILABLE", "The helpdesk database is unavailable."
    )


async def test_unreachable_billing_backend_degrades_to_a_partial_answer(
    scratch: Deployment, factory: Factory
) -> None:
    customer = await factory.customer()
    contract = await factory.contract(customer)
    ticket = await factory.ticket(contract_id=contract, customer_id=customer)

    settings = gateway_settings(scratch.database_url, "http://127.0.0.1:1")
    async with serving(create_app(settings), scratch.token) as client:
        response = await client.get(f"/api/mind/ticket/{ticket}/history")

    assert response.status_code == 200
    assert response.json()["warnings"] == [
        {
            "source": "billing",
            "code": "UPSTREAM_UNAVAILABLE",
            "message": "The billing backend is unreachable.",
        }
    ]
