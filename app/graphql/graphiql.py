"""GraphiQL, served entirely by the gateway: its page, and the npm-installed assets it loads.

The assets come from the project's `package.json` (`npm ci` at set-up puts them in ASSETS_DIR):
no CDN, so the page works offline and under a strict Content-Security-Policy.
"""

from __future__ import annotations

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
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)

# name served -> (from the npm packages?, path)
_ASSETS: dict[str, tuple[bool, str]] = {
    "react.js": (True, "react/umd/react.production.min.js"),
    "react-dom.js": (True, "react-dom/umd/react-dom.production.min.js"),
    "graphiql.js": (True, "graphiql/graphiql.min.js"),
    "graphiql.css": (True, "graphiql/graphiql.min.css"),
    "graphiql-init.js": (False, "graphiql-init.js"),
    "graphiql-page.css": (False, "graphiql-page.css"),
}

router = APIRouter(include_in_schema=False)


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(
        (STATIC / "graphiql.html").read_text(),
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
    )


@router.get("/graphql/assets/{name}")
async def asset(name: str, shared: Annotated[Resources, Depends(resources)]) -> Response:
    if name not in _ASSETS or not shared.settings.graphiql:
        return error_response(ErrorCode.NOT_FOUND, "Not Found")
    from_npm, relative = _ASSETS[name]
    path = (shared.settings.assets_dir if from_npm else STATIC) / relative
    if not path.is_file():
        return error_response(
            ErrorCode.SERVICE_UNAVAILABLE,
            "GraphiQL's assets are not installed: run `npm ci` in the project directory.",
        )
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
