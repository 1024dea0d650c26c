"""What the REST API takes and gives besides the domain's own models: request bodies and list rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.audit import StoredAuditEvent
from domain.models import RecoveryAction
from domain.postmortem import ActionItemSpec
from domain.rules import NextUp, Waiting, next_up, overdue_items, waiting_on
from domain.views import ProcessView
from domain.work import WorkEntry


class StartRequest(BaseModel):
    """Start a process: its kind and its parameters."""

    kind: str = Field(max_length=40, examples=["launch"])
    params: dict[str, Any] = Field(
        default_factory=dict,
        max_length=50,  # far more than any kind has; each kind's own model bounds every value
        examples=[
            {
                "product": "Acme Analytics 2.0",
                "launch_date": "2026-12-15",
                "owner": "pm@example.com",
                "approvers": ["vp@example.com", "legal@example.com"],
                "policy": "all",
            }
        ],
    )


class ResendRequest(BaseModel):
    """Which undelivered message to deliver again: its key, as the process's `undelivered` lists it."""

    key: str = Field(min_length=1, max_length=400)


class CancelRequest(BaseModel):
    """Why a process is cancelled."""

    reason: str = Field("", max_length=2000)


class RecoverRequest(BaseModel):
    """The owner's word on a held step: run it again, go on without it (not an approval gate), or end the process;
    with the reason the trail keeps (and a re-run tells those asked again)."""

    action: RecoveryAction
    reason: str = Field("", max_length=2000, examples=["The trademark search came back clean."])


class ProcessRow(BaseModel):
    """One process in the list."""

    id: str
    kind: str
    title: str
    owner: str
    status: str
    started_at: Any
    updated_at: Any
    progress: str | None = None
    next_deadline: Any = None
    overdue: int = 0
    """How many of its items are overdue (open, due before today), as of the latest copy of its page."""


class ProcessDetail(ProcessView):
    """A process as ``GET /api/processes/{id}`` and its page show it: its view, and what the web service works out
    from it (`domain.rules`): how many items are overdue, who it waits on, and what happens next."""

    overdue: int = 0
    waiting_on: list[Waiting] = Field(default_factory=list)
    next: NextUp | None = None

    @classmethod
    def of(cls, view: ProcessView, now: datetime, today: date) -> ProcessDetail:
        """`view` with what it says on `today` (overdue, who it waits on) and after `now` (what comes next)."""
        return cls.model_validate(
            dict(view)
            | {
                "overdue": len(overdue_items(view, today)),
                "waiting_on": waiting_on(view, today),
                "next": next_up(view, now),
            }
        )


class MyWork(BaseModel):
    """What waits on one person across the running processes (``GET /api/mine``), overdue first."""

    person: str
    today: date
    """The day `overdue` is measured on (UTC)."""
    entries: list[WorkEntry]


class ItemDoneRequest(BaseModel):
    """How an item ends: done (the default), or accepted as won't-do with a reason."""

    resolution: Literal["done", "wont_do"] = "done"
    reason: str = Field("", max_length=2000, examples=["Replaced by feature flags."])


class ActionItemsRequest(BaseModel):
    """Action items to file on a post-mortem."""

    items: list[ActionItemSpec] = Field(
        min_length=1,
        max_length=50,
        examples=[[{"title": "Alert on payment error rate", "owner": "sre@example.com", "priority": "P1"}]],
    )


class RevisionRequest(BaseModel):
    """A new version of a message under review: its body (Markdown), and its subject if that changes too."""

    body: str = Field(min_length=1, max_length=100_000, examples=["We upgrade Acme on Sunday, 02:00–04:00 UTC."])
    subject: str | None = Field(None, min_length=1, max_length=500)
    comment: str = Field("", max_length=5000, examples=["Times added, as engineering asked."])


class AuditPage(BaseModel):
    """One page of audit events, oldest first, and the cursor of the next page (null on the last)."""

    events: list[StoredAuditEvent]
    next: str | None = Field(None, description="Pass as `after` for the next page.")


class ScheduleRequest(BaseModel):
    """Make a recurring process: its kind, parameters (dates may be relative to each run: ``+14d``), and when
    it runs, `every` (``7d``, ``2w``, ``1mo``, ``3mo``, ``1y``) or `cron` (``0 9 1 * *``), in `time_zone`."""

    kind: str = Field(max_length=40, examples=["launch"])
    params: dict[str, Any] = Field(
        default_factory=dict,
        max_length=50,
        examples=[{"product": "Monthly release", "launch_date": "+14d", "approvers": ["vp@example.com"]}],
    )
    every: str | None = Field(None, max_length=20, examples=["1mo"])
    cron: str | None = Field(None, max_length=200, examples=["0 9 1 * *"])
    name: str | None = Field(None, max_length=63, examples=["monthly-release"])
    """The schedule's name (default: the kind and the product, subject or incident)."""
    time_zone: str | None = Field(None, max_length=64, examples=["Europe/Berlin"])
    """An IANA time zone for a cron's times and each run's day (default: UTC)."""


class PauseRequest(BaseModel):
    """Why a schedule is paused (or unpaused): shown on the schedules page and kept in its trail."""

    reason: str = Field("", max_length=500)
