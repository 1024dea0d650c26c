"""The web service: one FastAPI app for the REST API, approval pages and dashboard.

`create_app` takes everything it needs already built (the `Services`), so
the same app runs under `signoff web`, inside `signoff dev`, and in tests.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from api.access import authorize
from api.deps import Services
from api.observability import AccessLog, metrics_registry
from api.rendering import TEMPLATES
from api.routes import ROUTERS
from api.starts import ParamsError
from api.tokens import InvalidToken
from domain.errors import (
    BadInput,
    Conflict,
    Expired,
    Forbidden,
    NotFound,
    SignoffError,
    Unauthenticated,
    Unavailable,
)

log = structlog.get_logger()


STATUS_OF: list[tuple[type[SignoffError], int]] = [
    (InvalidToken, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Expired, 410),
    (BadInput, 422),
    (Unavailable, 503),
]


MAX_REQUEST_BYTES = 4 * 1024 * 1024
"""The largest request body any route takes (413 past it, before it is read). Below it, the models' own
limits refuse what is too long by name (422), a list at its length before any item is read: 100,000
approvers (2.5 MB) are a 422 naming `approvers`, and a start's whole input past 1.5 MiB (Temporal takes
2 MB at most) is a 422 naming `params` (api/service.py)."""


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # an approval page's URL is its approver's credential: never pass it on
    "X-Content-Type-Options": "nosniff",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""The pages run no script at all and take no part of another site; their styles are inline in base.html.
A response with a policy of its own keeps it: the API's pages run Swagger UI and ReDoc (api/routes/api_docs.py)."""


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` (and the CSP, unless the response has its own, and no-store on approval pages) to
    every response.

    Plain ASGI rather than ``@app.middleware("http")``, whose request/response
    wrapping costs every request, the approval click included.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = dict(SECURITY_HEADERS)
        if path.startswith("/approve/"):
            extra["Cache-Control"] = "no-store"  # the URL is a credential; the page is the approver's

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            await send(message)

        await self.app(scope, receive, with_headers)


def status_of(err: SignoffError) -> int:
    """The HTTP status for a domain error."""
    return next((status for kind, status in STATUS_OF if isinstance(err, kind)), 500)


def _a_page(request: Request) -> bool:
    """Whether `request` is for a page a person reads (not the API, a hook or an approval link)."""
    return not request.url.path.startswith(
        ("/api/", "/hooks/", "/approve/", "/metrics", "/healthz", "/auth/", "/login")
    )


class HeadAsGet:
    """Answers HEAD as GET without the body, on every route (RFC 9110 §9.3.2): FastAPI routes GET alone, and
    a HEAD route beside each GET would give the OpenAPI document a second operation per path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def create_app(services: Services, registry: CollectorRegistry | None = None) -> FastAPI:
    """The web service over `services`; its ``/metrics`` serves `registry` (this process's: the
    Temporal SDK's metrics, workers/telemetry.py) with signoff's own added, else a registry of its own."""
    app = FastAPI(
        title="signoff",
        summary="Durable product-management processes on Temporal.",
        version="0.1.0",
        dependencies=[Depends(authorize)],
        max_body_size=MAX_REQUEST_BYTES,
        docs_url=None,  # FastAPI's /docs and /redoc load their scripts from a CDN: api/routes/api_docs.py serves them
        redoc_url=None,
    )
    app.state.services = services
    exposed = metrics_registry(services.store, registry)

    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        SessionMiddleware,
        secret_key=services.auth.session_secret,
        session_cookie="signoff_session",
        max_age=int(services.auth.session_max.total_seconds()),
        same_site="lax",
        https_only=services.auth.secure_cookies,
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(AccessLog)  # outermost: it times and logs the whole request
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(SignoffError)
    async def _domain_error(request: Request, err: SignoffError) -> Response:
        status = status_of(err)
        retry_after = getattr(err, "retry_after", None)
        headers = {"Retry-After": str(round(retry_after))} if retry_after else None
        sign_in = services.auth.sign_in_url
        if isinstance(err, Unauthenticated) and sign_in and request.method == "GET" and _a_page(request):
            return RedirectResponse(f"{sign_in}?{urlencode({'next': request.url.path})}", status_code=303)
        if request.url.path.startswith("/api/"):
            detail: object = err.errors if isinstance(err, ParamsError) else str(err)
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        return TEMPLATES.TemplateResponse(
            request, "error.html", {"status": status, "message": str(err)}, status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, err: RequestValidationError) -> Response:
        """FastAPI's 422, without echoing what was sent: a refused 100,000-item list is named, not sent back
        (encoding it back took half a second of the event loop), and nothing sent comes back in a log or page."""
        errors = [{key: value for key, value in e.items() if key in ("loc", "msg", "type")} for e in err.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> Response:
        route = getattr(request.scope.get("route"), "path", "?")  # the template: a link's path is a credential
        log.exception("unexpected error", method=request.method, route=route)
        headers = SECURITY_HEADERS | {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}
        return JSONResponse(
            {"detail": "internal error; the server log has the details"}, status_code=500, headers=headers
        )

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> JSONResponse:
        """Whether the web service can reach Temporal and the database."""
        checks = {"temporal": "ok", "database": "ok"}
        try:
            await services.processes.client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=timedelta(seconds=2)
            )
        except Exception as err:  # any failure means "not healthy", said in the body
            checks["temporal"] = f"unreachable: {type(err).__name__}"
        try:
            services.store.ping()
        except Exception as err:
            checks["database"] = f"unreachable: {type(err).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503)

    @app.get("/metrics", tags=["operations"])
    def metrics() -> Response:
        """Prometheus metrics: this process's, the Temporal SDK's and signoff's own (docs/operations.md).

        A plain ``def``: FastAPI runs it on its thread pool, so the store's queries never hold up the event loop.
        """
        return Response(generate_latest(exposed), media_type=CONTENT_TYPE_LATEST)

    return app
