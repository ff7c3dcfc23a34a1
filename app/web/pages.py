"""The timeline, the login page and GraphiQL, and every asset they load, served by the gateway.

The timeline (`/`, docs/timeline.md) is plain HTML, CSS and JavaScript reading the public GraphQL
API like any single-page app. GraphiQL and React come from the project's `package.json` (`npm ci`
at set-up puts them in ASSETS_DIR): no CDN, so the pages work offline and under a strict
Content-Security-Policy.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from app.deps import Resources, resources
from app.errors import ErrorCode
from app.rest.errors import error_response

STATIC = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


@dataclass(frozen=True)
class Asset:
    path: str
    from_npm: bool = False
    graphiql_only: bool = False


_ASSETS: dict[str, Asset] = {
    "react.js": Asset("react/umd/react.production.min.js", from_npm=True, graphiql_only=True),
    "react-dom.js": Asset(
        "react-dom/umd/react-dom.production.min.js", from_npm=True, graphiql_only=True
    ),
    "graphiql.js": Asset("graphiql/graphiql.min.js", from_npm=True, graphiql_only=True),
    "graphiql.css": Asset("graphiql/graphiql.min.css", from_npm=True, graphiql_only=True),
    "graphiql-init.js": Asset("graphiql-init.js", graphiql_only=True),
    "graphiql-page.css": Asset("graphiql-page.css", graphiql_only=True),
    "login.js": Asset("login.js"),
    "login.css": Asset("login.css"),
    "timeline.js": Asset("timeline.js"),
    "timeline.css": Asset("timeline.css"),
    "timeline-icon.svg": Asset("timeline-icon.svg"),
}

router = APIRouter(include_in_schema=False)


def page(name: str, *, shown: str | None = None) -> HTMLResponse:
    """A page of STATIC; SHOWN is the id of an element it hides by default to show."""
    html = (STATIC / name).read_text()
    if shown is not None:
        html = html.replace(f'id="{shown}" hidden', f'id="{shown}"')
    return HTMLResponse(
        html,
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
    )


_UNSAFE_IN_PATH = re.compile(r"[\\\x00-\x1f\x7f]")


def is_same_origin_path(target: str) -> bool:
    """Whether TARGET (a `next` page) is a path of this site, as written and percent-decoded:
    it starts with one `/`, and has no scheme, host, backslash or control character (browsers
    drop tab, CR and LF inside URLs, so `/\t/evil.example` would lead to evil.example)."""
    for form in (target, unquote(target)):
        parts = urlsplit(form)
        if (
            not form.startswith("/")
            or form.startswith("//")
            or _UNSAFE_IN_PATH.search(form)
            or parts.scheme
            or parts.netloc
        ):
            return False
    return True


def _cookie_lost_over_plain_http(request: Request, cookie_secure: bool) -> bool:
    """Whether a browser will drop the `Secure` login cookie: the page came over plain HTTP
    from a host other than the loopback ones (which browsers treat as secure)."""
    host = request.url.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return cookie_secure and request.url.scheme == "http" and not loopback


def graphiql_page() -> HTMLResponse:
    return page("graphiql.html")


@router.get("/")
async def timeline_page() -> HTMLResponse:
    return page("timeline.html")


@router.get("/login")
async def login_page(
    request: Request,
    shared: Annotated[Resources, Depends(resources)],
    next_page: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    if next_page is not None and not is_same_origin_path(next_page):
        return RedirectResponse("/login", status_code=303)
    insecure = _cookie_lost_over_plain_http(request, shared.settings.cookie_secure)
    return page("login.html", shown="insecure" if insecure else None)


@router.get("/assets/{name}")
async def asset(name: str, shared: Annotated[Resources, Depends(resources)]) -> Response:
    found = _ASSETS.get(name)
    if found is None or (found.graphiql_only and not shared.settings.graphiql):
        return error_response(ErrorCode.NOT_FOUND, "Not Found")
    path = (shared.settings.assets_dir if found.from_npm else STATIC) / found.path
    if not path.is_file():
        return error_response(
            ErrorCode.SERVICE_UNAVAILABLE,
            "GraphiQL's assets are not installed: run `npm ci` in the project directory.",
        )
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
