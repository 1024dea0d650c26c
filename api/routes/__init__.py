"""The web service's routes, one module per area: the REST API (processes, audit, outbox), approval
links, webhooks, Slack's buttons, the pages and the start form, the evidence report."""

from fastapi import APIRouter

from api.routes import approvals, audit, evidence, hooks, outbox, pages, processes, slack, start_page

ROUTERS: list[APIRouter] = [
    processes.router,
    audit.router,
    outbox.router,
    evidence.router,
    approvals.router,
    hooks.router,
    slack.router,
    pages.router,
    start_page.router,
]
"""In the order the app includes them (the pages' catch-alls last)."""
