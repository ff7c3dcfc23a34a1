"""`POST /api/mind/auth/login` and `/logout`: sessions the gateway issues when it runs alone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.auth.login import log_in, log_out
from app.deps import Resources, resources
from app.rest.body import json_response
from app.rest.schemas import ErrorResponse

router = APIRouter(prefix="/api/mind/auth", tags=["Authentication"])


class Credentials(BaseModel):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class AgentOut(BaseModel):
    id: int
    email: str
    name: str


class LoginAnswer(BaseModel):
    success: bool
    agent: AgentOut


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "`BAD_USER_INPUT`: malformed credentials."},
    401: {"model": ErrorResponse, "description": "`UNAUTHENTICATED`: wrong email or password."},
    413: {"model": ErrorResponse, "description": "`PAYLOAD_TOO_LARGE`: a body over the limit."},
    429: {
        "model": ErrorResponse,
        "description": "`RATE_LIMITED`: too many failed logins for this email or address.",
    },
    503: {"model": ErrorResponse, "description": "`SERVICE_UNAVAILABLE`: a store is down."},
}


@router.post(
    "/login",
    response_model=LoginAnswer,
    responses=_ERRORS,
    summary="Log in with email and password; sets the connect.sid session cookie",
)
async def login(
    credentials: Credentials,
    request: Request,
    shared: Annotated[Resources, Depends(resources)],
) -> Response:
    settings = shared.settings
    opened = await log_in(
        settings=settings,
        engine=shared.sources.engine,
        store=shared.sessions,
        throttle=shared.login_throttle,
        hashing=shared.password_hashing,
        email=credentials.email,
        password=credentials.password,
        client=request.client.host if request.client else "-",
    )
    agent = opened.agent
    response = json_response(
        {"success": True, "agent": {"id": agent.id, "email": agent.email, "name": agent.name}}
    )
    response.set_cookie(
        settings.session_cookie_name,
        opened.cookie_value,
        max_age=opened.max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.post("/logout", summary="End the session and clear its cookie")
async def logout(request: Request, shared: Annotated[Resources, Depends(resources)]) -> Response:
    await log_out(shared.authenticator, shared.sessions, request.headers)
    response = json_response({"success": True})
    response.delete_cookie(
        shared.settings.session_cookie_name,
        path="/",
        httponly=True,
        samesite="lax",
        secure=shared.settings.cookie_secure,
    )
    return response
