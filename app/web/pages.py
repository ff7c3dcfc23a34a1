"""The timeline, the login page and GraphiQL, and every asset they load, served by the gateway.

The timeline (`/`, docs/timeline.md) is plain HTML, CSS and JavaScript reading the public GraphQL
API like any single-page app. GraphiQL and React come from the project's `package.json` (`npm ci`
at set-up puts them in ASSETS_DIR): no CDN, so the pages work offline and under a strict
Content-Security-Policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, HTMLResponse, Response

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


def page(name: str) -> HTMLResponse:
    return HTMLResponse(
        (STATIC / name).read_text(),
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
    )


def graphiql_page() -> HTMLResponse:
    return page("graphiql.html")


@router.get("/")
async def timeline_page() -> HTMLResponse:
    return page("timeline.html")


@router.get("/login")
async def login_page() -> HTMLResponse:
    return page("login.html")


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
