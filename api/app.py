"""The web service: one FastAPI app for the REST API, approval pages and dashboard.

`create_app` takes everything it needs already built (the `Services`), so
the same app runs under `signoff web`, inside `signoff dev`, and in tests.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from api.deps import Services
from api.rendering import TEMPLATES
from api.routes import ROUTERS
from api.service import ParamsError
from api.tokens import InvalidToken
from domain.errors import BadInput, Conflict, Expired, NotFound, SignoffError

log = structlog.get_logger()


STATUS_OF: list[tuple[type[SignoffError], int]] = [
    (InvalidToken, 400),
    (NotFound, 404),
    (Conflict, 409),
    (Expired, 410),
    (BadInput, 422),
]


def status_of(err: SignoffError) -> int:
    """The HTTP status for a domain error."""
    return next((status for kind, status in STATUS_OF if isinstance(err, kind)), 500)


def create_app(services: Services) -> FastAPI:
    """The web service over `services`."""
    app = FastAPI(
        title="signoff",
        summary="Durable product-management processes on Temporal.",
        version="0.1.0",
    )
    app.state.services = services
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(SignoffError)
    async def _domain_error(request: Request, err: SignoffError) -> Response:
        status = status_of(err)
        if request.url.path.startswith("/api/"):
            detail: object = err.errors if isinstance(err, ParamsError) else str(err)
            return JSONResponse({"detail": detail}, status_code=status)
        return TEMPLATES.TemplateResponse(
            request, "error.html", {"status": status, "message": str(err)}, status_code=status
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> Response:
        log.exception("unexpected error", path=request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)

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
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
