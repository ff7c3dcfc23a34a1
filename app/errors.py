"""The error vocabulary shared by both transports (design §8).

Domain code raises these; each transport maps them once (HTTP statuses for REST, `extensions.code`
for GraphQL). Messages are safe to show: never SQL, host names or tracebacks.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    RATE_LIMITED = "RATE_LIMITED"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
}


class GatewayError(Exception):
    """A request failed in a way the caller is told about, with a code and a safe message."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadUserInput(GatewayError):
    code = ErrorCode.BAD_USER_INPUT


class Unauthenticated(GatewayError):
    """No, a forged, an expired or an unknown session or token; or an inactive agent.

    One message for every cause, so an answer does not tell them apart.
    """

    code = ErrorCode.UNAUTHENTICATED

    def __init__(self, message: str = "A valid session or API token is required.") -> None:
        super().__init__(message)


class NotFound(GatewayError):
    code = ErrorCode.NOT_FOUND


class RateLimited(GatewayError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(GatewayError):
    code = ErrorCode.SERVICE_UNAVAILABLE


class UpstreamError(Exception):
    """The billing backend failed; the answer degrades to a warning, it does not fail.

    `backend_at_fault` is False for refusals that are the gateway's own doing (a 4xx such as a
    wrong API key, or a full bulkhead): those say nothing about the backend's health.
    """

    def __init__(self, code: ErrorCode, message: str, *, backend_at_fault: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.backend_at_fault = backend_at_fault
