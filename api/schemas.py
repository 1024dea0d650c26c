"""What the REST API takes and gives besides the domain's own models: request bodies and list rows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.audit import StoredAuditEvent
from domain.postmortem import ActionItemSpec


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
