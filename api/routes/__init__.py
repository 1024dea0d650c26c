"""The web service's routes, one module per area: the REST API (processes, audit, outbox), approval
links, webhooks, Slack's buttons, the pages and the start form, the evidence report, the API's own pages."""

from fastapi import APIRouter

from api.routes import (
    api_docs,
    approvals,
    audit,
    calendar,
    evidence,
    hooks,
    mine,
    outbox,
    pages,
    people,
    plans,
    process_actions,
    processes,
    schedules,
    sign_in,
    slack,
    start_page,
)

ROUTERS: list[APIRouter] = [
    processes.router,
    plans.router,
    people.router,
    audit.router,
    outbox.router,
    evidence.router,
    mine.router,
    calendar.router,
    schedules.router,
    approvals.router,
    hooks.router,
    slack.router,
    sign_in.router,
    api_docs.router,
    process_actions.router,
    pages.router,
    start_page.router,
]
"""In the order the app includes them (the pages' catch-alls last)."""
