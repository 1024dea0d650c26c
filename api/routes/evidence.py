"""The evidence report of a process: what it was, every decision, every message, and whether its trail holds.

``GET /api/processes/{id}/evidence`` answers Markdown (``?format=markdown``,
the default) or a printable HTML page (``?format=html``). It is built from
the audit store alone, so it outlives Temporal's retention of the workflow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import Services, ServicesDep
from api.rendering import TEMPLATES
from domain.errors import NotFound
from domain.words import label

router = APIRouter(prefix="/api", tags=["audit"])

MARKDOWN = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parents[1] / "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
    undefined=jinja2.StrictUndefined,
)
"""Markdown is plain text: no HTML escaping, and block tags leave no blank lines inside tables."""


def plain(value: Any) -> str:
    """A parameter as a person reads it: none as a dash, lists joined, mappings as ``key: value``."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {plain(item)}" for key, item in value.items() if item not in (None, "", []))
    if isinstance(value, list):
        return ("; " if any(isinstance(item, dict) for item in value) else ", ").join(plain(item) for item in value)
    return str(value)


MARKDOWN.filters["plain"] = plain
MARKDOWN.filters["label"] = label
TEMPLATES.env.filters["plain"] = plain

DECISIONS = {"decision"}
CHANGES = {"edited", "delegated"}
"""What changed who decides or when, along the way: edits, and decisions handed on (or to the gate's backup)."""
MESSAGES = {"message_sent", "delivery_failed", "batch_sent"}


def evidence(svc: Services, process_id: str) -> dict[str, Any]:
    """The facts of the report, from the audit store."""
    store = svc.store
    process = store.process(process_id)
    if process is None:
        raise NotFound(f"no audit trail for process {process_id}")
    trail, problem = store.verified_trail(process_id)
    problems = [problem] if problem else []
    started = next((e for e in trail if e.action == "started"), None)
    return {
        "process": process,
        "params": started.details.get("params", {}) if started else {},
        "decisions": [e for e in trail if e.action in DECISIONS],
        "changes": [e for e in trail if e.action in CHANGES],
        "versions": [e for e in trail if "content_hash" in e.details and e.action in ("started", "revised")],
        "messages": [e for e in trail if e.action in MESSAGES],
        "events": len(trail),
        "last_hash": trail[-1].hash if trail else "",
        "verified": not problems,
        "problems": problems,
        "made_at": datetime.now(UTC),
    }


@router.get("/processes/{process_id}/evidence", response_class=PlainTextResponse)
def evidence_report(
    process_id: str, request: Request, svc: ServicesDep, format: Literal["markdown", "html"] = Query("markdown")
) -> Response:
    """The evidence report: the process, every decision (who, when, what, on which version), every
    message sent, and the verification of its hash chain. Markdown, or printable HTML."""
    context = evidence(svc, process_id)
    if format == "html":
        return TEMPLATES.TemplateResponse(request, "evidence.html", context, media_type="text/html")
    text = MARKDOWN.get_template("evidence.md").render(context)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
