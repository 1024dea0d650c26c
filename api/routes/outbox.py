"""The outbox under ``/api/outbox``: what signoff recorded instead of sending, where an integration is not set up.

Only admins read it (docs/security.md), and even they do not see the
approval links in it: a link is its approver's credential, so each shows
only to the person it was sent to. The embedded dev stack shows them whole,
since the outbox is how a new user sees (and follows) what would be sent.
"""

from __future__ import annotations

import re

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from domain.access import Caller
from integrations.outbox_records import OutboxEntry

router = APIRouter(prefix="/api", tags=["outbox"])

APPROVAL_LINK = re.compile(r"/approve/[A-Za-z0-9._~-]+")
HIDDEN = "/approve/(a link for its approver alone)"


def as_seen_by(entries: list[OutboxEntry], caller: Caller, dev_mode: bool) -> list[OutboxEntry]:
    """`entries` with every approval link hidden, but in messages sent to `caller` (all shown in dev mode)."""
    if dev_mode:
        return entries
    return [entry if any(caller.is_(to) for to in entry.to) else _hidden(entry) for entry in entries]


def _hidden(entry: OutboxEntry) -> OutboxEntry:
    """`entry` without its approval links: in its body, and in its meta (an approval request keeps its link)."""
    meta = {name: HIDDEN if name == "approval_url" else value for name, value in entry.meta.items()}
    return entry.model_copy(update={"body": APPROVAL_LINK.sub(HIDDEN, entry.body), "meta": meta})


@router.get("/outbox", response_model=list[OutboxEntry])
def list_outbox(svc: ServicesDep, caller: CurrentUser, process: str | None = None) -> list[OutboxEntry]:
    """What the outbox recorded instead of sending, oldest first (approval links shown to their approver only)."""
    return as_seen_by(svc.store.outbox(process), caller, svc.auth.dev_mode)
