"""Incoming webhooks: ``POST /hooks/jira`` and ``POST /hooks/events``.

The order matters: the size cap and the signature are checked on the raw
bytes before anything is parsed, and a redelivered event (same delivery id)
changes nothing. What an event does is up to the rules in
``config/triggers.yaml``: start a process, or mark a checklist item done in
the process whose label the issue carries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import Services, ServicesDep
from config.triggers import Rule, fill
from domain.errors import BadInput, Conflict, NotFound
from domain.requests import process_label

router = APIRouter(prefix="/hooks", tags=["webhooks"])
log = structlog.get_logger()

MAX_BODY = 1024 * 1024
"""Bodies over 1 MiB are refused (413) before they are read further."""


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` (``sha256=<hex>``) is the HMAC-SHA256 of `body` under `secret`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


async def read_capped(request: Request) -> bytes | None:
    """The raw body, or None if it is over `MAX_BODY`."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return body


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


@dataclass
class Intake:
    """How one source signs, identifies and types its events."""

    source: str
    setting: str
    delivery_header: str
    event_type: Callable[[dict[str, Any]], object]


JIRA = Intake("jira", "SIGNOFF_JIRA_WEBHOOK_SECRET", "x-atlassian-webhook-identifier", lambda e: e.get("webhookEvent"))
EVENTS = Intake("events", "SIGNOFF_EVENTS_SECRET", "x-signoff-delivery", lambda e: e.get("type"))


@router.post("/jira")
async def jira_webhook(request: Request, svc: ServicesDep) -> JSONResponse:
    """A Jira webhook, signed with ``SIGNOFF_JIRA_WEBHOOK_SECRET`` (``X-Hub-Signature``)."""
    return await receive(request, svc, JIRA, svc.jira_webhook_secret)


@router.post("/events")
async def event_webhook(request: Request, svc: ServicesDep) -> JSONResponse:
    """A JSON event from any system: ``{"type": …, "id": …, …}`` signed with ``SIGNOFF_EVENTS_SECRET``."""
    return await receive(request, svc, EVENTS, svc.events_secret)


async def receive(request: Request, svc: Services, intake: Intake, secret: str | None) -> JSONResponse:
    """Check, parse and deduplicate one delivery, then apply the matching trigger rules."""
    if not secret:
        return _error(404, f"the {intake.source} webhook is off: set {intake.setting}")
    body = await read_capped(request)
    if body is None:
        return _error(413, f"the body is over {MAX_BODY} bytes")
    if not signature_ok(secret, body, request.headers.get("x-hub-signature")):
        return _error(401, "missing or wrong X-Hub-Signature (sha256= HMAC-SHA256 of the body with the secret)")
    try:
        event = json.loads(body)
    except ValueError:
        return _error(400, "the body is not JSON")
    event_type = intake.event_type(event) if isinstance(event, dict) else None
    if not isinstance(event_type, str):
        return _error(400, f"not a {intake.source} event: no event type")
    delivery = (
        request.headers.get(intake.delivery_header) or str(event.get("id") or "") or hashlib.sha256(body).hexdigest()
    )
    if not svc.store.first_delivery(intake.source, delivery):
        return JSONResponse({"status": "duplicate", "delivery": delivery})
    rules = svc.triggers.matching(intake.source, event_type, event)
    actions = [await _apply(svc, rule, event) for rule in rules]
    return JSONResponse({"status": "accepted", "delivery": delivery, "actions": actions})


async def _apply(svc: Services, rule: Rule, event: dict[str, Any]) -> dict[str, Any]:
    """Carry out one rule; what happened, as one line of the answer."""
    try:
        if rule.start:
            params = fill(rule.start.params, event)
            view = await svc.processes.start(rule.start.kind, params, actor=f"jira:{fill(rule.start.key, event)}")
            return {"rule": rule.name, "started": view.id}
        if rule.item_done:
            issue = str(fill(rule.item_done.issue, event))
            process_id = _process_of(event)
            if process_id is None:
                return {"rule": rule.name, "skipped": f"{issue} belongs to no signoff process"}
            item = await svc.processes.issue_done(process_id, issue, by="jira")
            return {"rule": rule.name, "process": process_id, "item_done": item.key}
    except Conflict as err:  # the same event again, or a finished process: nothing to do
        return {"rule": rule.name, "unchanged": str(err)}
    except (BadInput, NotFound) as err:
        log.warning("webhook rule could not apply", rule=rule.name, reason=str(err))
        return {"rule": rule.name, "refused": str(err)}
    return {"rule": rule.name, "skipped": "the rule has no action"}


def _process_of(event: dict[str, Any]) -> str | None:
    """The process an issue belongs to, from the label signoff put on it."""
    prefix = process_label("")
    labels = (event.get("issue") or {}).get("fields", {}).get("labels") or []
    return next((label.removeprefix(prefix) for label in labels if label.startswith(prefix)), None)
