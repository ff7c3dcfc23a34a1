"""HTTP details: 405 with `Allow`, HEAD wherever GET is, and errors that middlewares answer by
themselves (body limit, unexpected errors) in the shape of the path's transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.deps import history_service
from app.main import create_app
from tests.conftest import Deployment, gateway_settings, serving
from tests.support.factories import Factory
from tests.support.servers import serve_in_thread


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/api/mind/ticket/1/history", "GET, HEAD"),
        ("DELETE", "/healthz", "GET, HEAD"),
        ("PUT", "/api/mind/auth/login", "POST"),
    ],
)
async def test_a_method_a_rest_path_does_not_take_is_405_with_allow(
    scratch: Deployment, method: str, path: str, allow: str
) -> None:
    response = await scratch.client.request(method, path)

    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json() == {
        "success": False,
        "code": "METHOD_NOT_ALLOWED",
        "error": "Method Not Allowed",
    }


async def test_a_method_graphql_does_not_take_is_405_in_graphql_shape(
    scratch: Deployment,
) -> None:
    response = await scratch.client.put("/graphql", json={"query": "{ viewer { id } }"})

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"
    assert response.json() == {
        "errors": [{"message": "Method Not Allowed", "extensions": {"code": "METHOD_NOT_ALLOWED"}}]
    }


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/mind/ticket/{ticket}/history"])
async def test_head_is_answered_wherever_get_is(
    scratch: Deployment, factory: Factory, path: str
) -> None:
    url = path.format(ticket=await factory.ticket())

    got = await scratch.client.get(url)
    head = await scratch.client.head(url)

    assert got.status_code == 200
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["Content-Length"] == got.headers["Content-Length"]


async def test_the_body_limit_answers_in_the_shape_of_the_path(scratch: Deployment) -> None:
    padding = b"x" * (1024 * 1024 + 1)

    rest = await scratch.client.post("/api/mind/auth/login", content=padding)
    graphql = await scratch.client.post("/graphql", content=padding)

    message = "The request body is over 1048576 bytes."
    assert (rest.status_code, graphql.status_code) == (413, 413)
    assert rest.json() == {"success": False, "code": "PAYLOAD_TOO_LARGE", "error": message}
    assert graphql.json() == {
        "errors": [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]
    }


async def test_an_unexpected_error_outside_execution_is_masked_in_graphql_shape(
    scratch: Deployment, billing_url: str
) -> None:
    def exploding() -> None:
        raise KeyError("SELECT secret FROM internals")

    app = create_app(gateway_settings(scratch.database_url, billing_url))
    app.dependency_overrides[history_service] = exploding
    async with serving(app, scratch.token) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { id } }"},
            headers={"X-Request-ID": "trace-9"},
        )

    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {
                "message": "Unexpected error. Quote request id trace-9 when reporting it.",
                "extensions": {"code": "INTERNAL"},
            }
        ]
    }


async def test_an_oversized_chunked_login_body_is_413(scratch: Deployment) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@b.c", "password": "'
        for _ in range(17):
            yield b"x" * 65_536
        yield b'"}'

    response = await scratch.anonymous.post(
        "/api/mind/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json() == {
        "success": False,
        "code": "PAYLOAD_TOO_LARGE",
        "error": "The request body is over 1048576 bytes.",
    }


async def test_a_trailing_slash_is_not_redirected_to_the_clients_host(
    scratch: Deployment,
) -> None:
    response = await scratch.client.get("/healthz/", headers={"Host": "evil.example"})

    assert response.status_code == 404
    assert "location" not in response.headers


@pytest.mark.parametrize("path", ["/graphql", "/api/mind/auth/login"])
async def test_a_body_that_never_arrives_is_408_not_503(
    scratch: Deployment, billing_url: str, path: str
) -> None:
    settings = gateway_settings(scratch.database_url, billing_url, request_deadline_seconds=0.5)
    with serve_in_thread(create_app(settings)) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {scratch.token}\r\nContent-Length: 100\r\n\r\n{{}}".encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        writer.close()

    assert head.startswith(b"HTTP/1.1 408 ")
