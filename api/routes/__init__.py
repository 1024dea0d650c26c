"""The web service's routes, one module per area: the REST API (processes, audit, outbox), approval
links, webhooks, Slack's buttons, the pages and the start form, the evidence report, the API's own pages."""

from fastapi import APIRouter

from api.routes import (
    api_docs,
    approvals,
    audit,
    evidence,
    hooks,
    outbox,
    pages,
    people,
    processes,
    sign_in,
    slack,
    start_page,
)

ROUTERS: list[APIRouter] = [
    processes.router,
    people.router,
    audit.router,
    outbox.router,
    evidence.router,
    approvals.router,
    hooks.router,
    slack.router,
    sign_in.router,
    api_docs.router,
    pages.router,
    start_page.router,
]
"""In the order the app includes them (the pages' catch-alls last)."""
