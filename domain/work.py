"""A person's work across processes: the items they own, the gates waiting on their decision and the messages
they review, overdue first (pure: `api.routes.mine` reads the views and serves it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from domain.enums import GateStatus
from domain.rules import decision_due, is_overdue, open_items
from domain.views import ProcessView


class ProcessRef(BaseModel):
    """The process an entry of someone's work belongs to."""

    id: str
    kind: str
    title: str
    link: str
    """Its page."""


class WorkEntry(BaseModel):
    """One thing waiting on a person: an item they own, a gate waiting on their decision, a message to review."""

    what: Literal["item", "decision", "review"]
    """``item``: a checklist item, task or action item; ``decision``: a gate's approval; ``review``: a customer
    message (the reviewers of a message are its gate's approvers)."""
    key: str
    """The item's or the gate's key."""
    title: str
    due: date | None
    due_at: datetime | None = None
    """When a decision is due (`domain.rules.decision_due`); an item is due on a day."""
    overdue: bool = False
    process: ProcessRef
    approval_link: str | None = None
    """The person's own approval page, shown to them alone (a link is its approver's credential)."""
    as_of: datetime | None = None
    """When the store's copy it was read from was taken."""


def work_of(person: str, view: ProcessView, today: date, base_url: str = "") -> list[WorkEntry]:
    """What `view`'s process waits on `person` for: their open items and the open gates they have not decided
    (a message's review, for a customer message), each with its due date; nothing once the process has ended.

    Links are under `base_url` (empty: paths); a process id is a slug (`domain.ids`), safe in a path as it is.
    """
    if view.status.finished:
        return []
    ref = ProcessRef(id=view.id, kind=view.kind, title=view.title, link=f"{base_url}/processes/{view.id}")
    entries = [
        WorkEntry(
            what="item",
            key=item.key,
            title=item.title,
            due=item.due,
            overdue=is_overdue(item.due, today),
            process=ref,
            as_of=view.as_of,
        )
        for item in open_items(view)
        if item.owner == person
    ]
    for gate in view.gates:
        standing_in = [a for a in gate.waiting_on if gate.delegates.get(a) == person]  # handed to them
        if gate.status != GateStatus.OPEN or (person not in gate.waiting_on and not standing_in):
            continue
        due_at = decision_due(view, gate)
        due = due_at.date() if due_at else None
        review = view.kind == "comms"
        title = f"{gate.title}: {view.content.subject}" if review and view.content else gate.title
        entries.append(
            WorkEntry(
                what="review" if review else "decision",
                key=gate.key,
                title=f"{title} (on behalf of {', '.join(standing_in)})" if standing_in else title,
                due=due,
                due_at=due_at,
                overdue=due is not None and is_overdue(due, today),
                process=ref,
                as_of=view.as_of,
            )
        )
    return entries


def in_order(entries: list[WorkEntry]) -> list[WorkEntry]:
    """Overdue first, then by due date (undated last), then by process and key."""
    return sorted(entries, key=lambda e: (not e.overdue, e.due or date.max, e.due_at is None, e.process.id, e.key))
