"""Incoming webhooks: ``POST /hooks/jira`` and ``POST /hooks/events``.

The order matters: the size cap and the signature are checked on the raw
bytes before anything is parsed; a delivery is refused outside its freshness
window, and a redelivery (the same signed identity) changes nothing
(`integrations.webhooks` says how each source is signed and identified). What
an event does is up to the rules in ``config/triggers.yaml``: start a process,
or mark a checklist item done in the process whose label the issue carries.
A signed delivery that is refused (not an event, or a rule cannot apply it) is
a 4xx saying why, and an ``event_refused`` in the source's own audit trail.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import Services, ServicesDep
from api.starts import StoredViews
from config.triggers import Rule, fill
from domain.enums import Channel, StepStatus
from domain.errors import BadInput, Conflict, NotFound
from domain.requests import process_label
from domain.views import ItemState, ProcessView
from integrations.webhooks import Stale, Unsigned, jira_delivery, jira_signature_ok, verify_event

router = APIRouter(prefix="/hooks", tags=["webhooks"])
log = structlog.get_logger()

MAX_BODY = 1024 * 1024
"""Bodies over 1 MiB are refused (413) before they are read further."""

_CHANNEL = {"jira": Channel.JIRA.value, "events": Channel.SYSTEM.value}
"""The audit trail's channel of each source's deliveries."""


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


def _refusal(err: BadInput) -> JSONResponse:
    """A delivery refused with a sentence: unsigned 401, anything else wrong with it (stale, malformed) 400.

    Never 408, 409, 425, 429 or 5xx, which Jira would retry."""
    return _error(401 if isinstance(err, Unsigned) else 400, str(err))


def _event(body: bytes, type_field: str, source: str) -> tuple[dict[str, Any], str]:
    """The JSON event in `body` and its type.

    Raises:
        BadInput: the body is not a JSON object with a string `type_field`.
    """
    try:
        event = json.loads(body)
    except ValueError:
        raise BadInput("the body is not JSON") from None
    event_type = event.get(type_field) if isinstance(event, dict) else None
    if not isinstance(event_type, str):
        raise BadInput(f"not a {source} event: no {type_field}")
    return event, event_type


@router.post("/jira")
async def jira_webhook(request: Request, svc: ServicesDep) -> JSONResponse:
    """A Jira webhook: its body signed with ``SIGNOFF_JIRA_WEBHOOK_SECRET`` (``X-Hub-Signature``), identified
    and timed by the body itself (event, issue, change, ``timestamp``)."""
    if not svc.jira_webhook_secret:
        return _error(404, "the jira webhook is off: set SIGNOFF_JIRA_WEBHOOK_SECRET")
    body = await read_capped(request)
    if body is None:
        return _error(413, f"the body is over {MAX_BODY} bytes")
    if not jira_signature_ok(svc.jira_webhook_secret, body, request.headers.get("x-hub-signature")):
        return _error(401, "missing or wrong X-Hub-Signature (sha256= HMAC-SHA256 of the body with the secret)")
    try:
        event, event_type = _event(body, "webhookEvent", "jira")
        delivery = jira_delivery(event, datetime.now(UTC))
    except Stale as err:
        return _refusal(err)
    except BadInput as err:  # signed, so Jira's (or the secret's holder's): kept in the trail
        return _refused_signed(svc, "jira", None, err)
    return await act(svc, "jira", delivery, event_type, event)


@router.post("/events")
async def event_webhook(request: Request, svc: ServicesDep) -> JSONResponse:
    """A JSON event from any system, ``{"type": …, …}``, signed the Standard Webhooks way with
    ``SIGNOFF_EVENTS_SECRET`` (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)."""
    if not svc.events_secret:
        return _error(404, "the events webhook is off: set SIGNOFF_EVENTS_SECRET")
    body = await read_capped(request)
    if body is None:
        return _error(413, f"the body is over {MAX_BODY} bytes")
    try:
        delivery = verify_event(svc.events_secret, body, request.headers, datetime.now(UTC))
    except BadInput as err:  # `Unsigned`, `Stale`, or headers that are not Standard Webhooks'
        return _refusal(err)
    try:
        event, event_type = _event(body, "type", "events")
    except BadInput as err:  # signed, but no event: kept in the trail
        return _refused_signed(svc, "events", delivery, err)
    return await act(svc, "events", delivery, event_type, event)


def trail_of(source: str) -> str:
    """The audit trail of the refused deliveries of a source (``hooks-jira``, ``hooks-events``)."""
    return f"hooks-{source}"


def _refused_signed(svc: Services, source: str, delivery: str | None, err: BadInput) -> JSONResponse:
    """A signed delivery that is not an event: 400 with the sentence, and an ``event_refused`` in the trail."""
    svc.store.note(
        trail_of(source), source, _CHANNEL[source], "event_refused", {"delivery": delivery, "reason": str(err)}
    )
    return _refusal(err)


async def act(svc: Services, source: str, delivery: str, event_type: str, event: dict[str, Any]) -> JSONResponse:
    """Apply the matching trigger rules to a checked event, unless its delivery was taken before.

    When a rule refuses the event (a missing or malformed field for the process it starts, an item of no
    process), the answer is a 422 saying why, with what every rule did, and the refusal is kept in the
    source's audit trail (`trail_of`): the sender learns of it, and so does whoever reads the trail.
    """
    if not svc.store.first_delivery(source, delivery):
        return JSONResponse({"status": "duplicate", "delivery": delivery})
    rules = svc.triggers.matching(source, event_type, event)
    actor = sender(source, event)
    actions = [await _apply(svc, rule, event, actor) for rule in rules]
    refused = [action for action in actions if "refused" in action]
    if not refused:
        return JSONResponse({"status": "accepted", "delivery": delivery, "actions": actions})
    reasons = "; ".join(f"rule {action['rule']}: {action['refused']}" for action in refused)
    svc.store.note(
        trail_of(source), actor, _CHANNEL[source], "event_refused",
        {"delivery": delivery, "type": event_type, "actions": actions},
    )  # fmt: skip
    some = "" if len(refused) == len(actions) else f" ({len(actions) - len(refused)} of {len(actions)} rules applied)"
    return JSONResponse(
        {"status": "refused", "delivery": delivery, "actions": actions, "detail": f"event refused{some}: {reasons}"},
        status_code=422,
    )


def sender(source: str, event: dict[str, Any]) -> str:
    """Who acted, for the audit trail, as the signed delivery names them: ``jira:`` and the Jira user who made
    the change (their email where Jira shows it, else their account id), or ``events:`` and the event's own
    ``actor``; the source alone when the delivery names nobody."""
    who = event.get("user") if source == "jira" else {"name": event.get("actor")}
    if isinstance(who, dict):
        for field in ("emailAddress", "accountId", "name", "displayName"):
            if isinstance(who.get(field), str) and who[field].strip():
                return f"{source}:{who[field].strip()[:200]}"
    return source


async def _apply(svc: Services, rule: Rule, event: dict[str, Any], actor: str) -> dict[str, Any]:
    """Carry out one rule as `actor`; what happened, as one line of the answer."""
    try:
        if rule.start:
            params = fill(rule.start.params, event)
            channel = Channel.JIRA if actor.startswith("jira") else Channel.SYSTEM  # as `_CHANNEL` says
            view = await svc.processes.start(rule.start.kind, params, actor=actor, channel=channel)
            return {"rule": rule.name, "started": view.id}
        if rule.item_done:
            issue = str(fill(rule.item_done.issue, event))
            labelled = _process_of(event)
            if labelled is None:
                return {"rule": rule.name, "skipped": f"{issue} belongs to no signoff process"}
            process_id, item = await done_where_tracked(svc, labelled, issue, actor)
            return {"rule": rule.name, "process": process_id, "item_done": item.key}
    except Conflict as err:  # the same event again, or a finished process: nothing to do
        return {"rule": rule.name, "unchanged": str(err)}
    except (BadInput, NotFound) as err:
        log.warning("webhook rule could not apply", rule=rule.name, reason=str(err))
        return {"rule": rule.name, "refused": str(err)}
    return {"rule": rule.name, "skipped": "the rule has no action"}


async def done_where_tracked(svc: Services, labelled: str, issue: str, by: str) -> tuple[str, ItemState]:
    """Mark `issue`'s item done in the process that tracks it: the one its label names, asked first; only when
    that one refuses (it has ended) are the store's copies read for where its items went (`tracking_now`).

    Raises:
        Conflict: the item is done already, or no running process tracks it.
    """
    try:
        return labelled, await svc.processes.issue_done(labelled, issue, by=by)
    except Conflict:
        now = await asyncio.to_thread(tracking_now, svc.store, labelled, issue)
        if now == labelled:
            raise
        return now, await svc.processes.issue_done(now, issue, by=by)


def tracking_now(store: StoredViews, process_id: str, issue: str) -> str:
    """The process that tracks `issue` now, starting from `process_id`, whose label the issue carries.

    A launch that ended with items open and handed them to its retrospective
    (``open_items_after_launch: retrospective``) no longer tracks them: the retrospective does, as action items
    under the same issues, which keep the launch's label. So when the labelled process has ended, its checklist
    was handed over, the issue's item was still open in it, and it links a retrospective, the issue goes there
    (and on, should that one have handed it on too). Read from the store's copies: no process is asked.
    """
    seen = {process_id}
    while (handed_to := _handed_to(store.process_view(process_id), issue)) is not None and handed_to not in seen:
        seen.add(handed_to)
        process_id = handed_to
    return process_id


def _handed_to(view: ProcessView | None, issue: str) -> str | None:
    """The retrospective an ended process handed `issue`'s open item to, if it did."""
    if view is None or not view.status.finished:
        return None
    steps = {step.key: step.status for step in view.steps}
    if steps.get("checklist") != StepStatus.HANDED_OVER:
        return None
    if not any(item.issue_key == issue and item.status == "open" for item in view.items):
        return None
    return view.links.get("retrospective")


def _process_of(event: dict[str, Any]) -> str | None:
    """The process an issue belongs to, from the label signoff put on it."""
    prefix = process_label("")
    labels = (event.get("issue") or {}).get("fields", {}).get("labels") or []
    return next((label.removeprefix(prefix) for label in labels if label.startswith(prefix)), None)
