"""The API's own pages, ``/docs`` (Swagger UI) and ``/redoc``, with every file they load served by the app.

FastAPI's defaults load Swagger UI and ReDoc from a CDN, which leaves the
pages blank on a machine without the internet. Their files come from the
fastapi-offline package instead (it ships Swagger UI 5 and ReDoc 2 and keeps
them current), served under ``/docs/assets/``. Each page carries a
Content-Security-Policy that allows exactly what it needs: scripts, styles and
the icon from this site, its one inline start-up script by its hash, and
requests to this site (the spec, and Swagger UI's "Try it out").
"""

from __future__ import annotations

import re
from base64 import b64encode
from hashlib import sha256
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from domain.errors import NotFound

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
"""The files the pages load (from `ASSETS_DIR`), with their content types: these and nothing else are served."""
OAUTH2_REDIRECT = "/docs/oauth2-redirect"

DOCS_POLICY = (
    "default-src 'none'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; worker-src blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""The API pages' policy. Inline styles: Swagger UI and ReDoc set style attributes, and ReDoc writes its styles
into the page; ``data:`` images: Swagger UI's icons are inline SVG in its CSS; ``blob:`` workers: ReDoc's search
runs in a worker it builds from its own code."""
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def with_policy(page: HTMLResponse) -> HTMLResponse:
    """`page` with `DOCS_POLICY`, allowing each of its inline scripts by its SHA-256 (the pages take no data, so
    their scripts are the same on every request; a script changed by a FastAPI upgrade is hashed anew)."""
    html = bytes(page.body).decode()
    hashes = [b64encode(sha256(script.encode()).digest()).decode() for script in INLINE_SCRIPT.findall(html)]
    page.headers["Content-Security-Policy"] = DOCS_POLICY.format(scripts="".join(f" 'sha256-{h}'" for h in hashes))
    return page


def _asset(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}/docs/assets/{name}"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    app = request.app
    root = request.scope.get("root_path", "")
    return with_policy(
        get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=_asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=_asset(request, "swagger-ui.css"),
            swagger_favicon_url=_asset(request, "favicon.png"),
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
    )


@router.get(OAUTH2_REDIRECT)
def swagger_ui_oauth2_redirect() -> HTMLResponse:
    """Where an OAuth2 sign-in started from Swagger UI comes back to."""
    return with_policy(get_swagger_ui_oauth2_redirect_html())


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over ``/openapi.json`` (without Google's fonts: the page loads nothing from elsewhere)."""
    app = request.app
    return with_policy(
        get_redoc_html(
            openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=_asset(request, "redoc.standalone.js"),
            redoc_favicon_url=_asset(request, "favicon.png"),
            with_google_fonts=False,
        )
    )


@router.get("/docs/assets/{asset}")
def asset(asset: str) -> FileResponse:
    """One of Swagger UI's or ReDoc's files (`ASSETS`)."""
    if asset not in ASSETS:
        raise NotFound(f"no file {asset!r} here; the API pages' files are {', '.join(ASSETS)}")
    return FileResponse(ASSETS_DIR / asset, media_type=ASSETS[asset])
