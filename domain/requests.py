"""What workflows ask of activities (tracker issues, messages, approval links) and what comes back.

Each activity takes one of these models and returns one; new fields must be
optional so running workflows keep replaying.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from domain.models import Model


def process_label(process_id: str) -> str:
    """The tracker label on every issue of a process: how a webhook finds its process."""
    return f"signoff-process-{process_id}"


class IssueRequest(Model):
    """Create a tracker issue, once per `marker`."""

    process_id: str
    marker: str
    project: str
    issue_type: str
    summary: str
    description: str = ""
    assignee: str | None = None
    due: date | None = None
    parent: str | None = None
    labels: list[str] = Field(default_factory=list)


class IssueUpdate(Model):
    """Change a tracker issue's assignee or due date (an item reassigned, a launch moved); repeating it is
    harmless. What is left out stays as it is."""

    process_id: str
    issue_key: str
    assignee: str | None = None
    due: date | None = None
    comment: str = ""
    """Said on the issue with the change (who changed it, and why)."""
    marker: str = ""
    """Keys the comment, so a retry adds it once."""


class StatusRequest(Model):
    """Read the status category of some tracker issues of a process."""

    process_id: str
    keys: list[str]


class IssueStatuses(Model):
    """Each issue's status category: ``new``, ``indeterminate`` or ``done``."""

    statuses: dict[str, str] = Field(default_factory=dict)


class IssueRef(Model):
    """A tracker issue that exists."""

    key: str
    url: str = ""


class TransitionRequest(Model):
    """Move a tracker issue to a status, with an optional comment."""

    process_id: str
    marker: str
    issue_key: str
    status: str
    comment: str = ""
    resolution: Literal["done", "wont_do"] = "done"
    """``wont_do``: the work was dropped (an item accepted as won't-do, a process ended early); the tracker
    records a won't-do resolution where it has one, else says so in a comment."""


class MessageRequest(Model):
    """An email or chat message, rendered from the message template `template`.

    `key` makes the send idempotent: the same key is delivered once, or again under the same identity
    (an email's Message-ID) when an attempt's outcome is unknown.
    """

    process_id: str
    key: str
    template: str
    to: list[str] = Field(default_factory=list)
    context: dict[str, Any] = Field(default_factory=dict)


class ApprovalLinkRequest(Model):
    """Ask one approver for a decision, with their own signed link."""

    process_id: str
    key: str
    template: str = "approval_request"
    gate: str
    round: int
    approver: str
    token_id: str
    expires_at: datetime
    content_hash: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    on_behalf_of: str | None = None
    """The approver `approver` is asked to decide for (they handed their decision on, or were silent and the
    gate's backup is asked): signed into the link."""

    def claims(self) -> ApprovalClaims:
        """What the approver's link (or chat button) names."""
        return ApprovalClaims(
            process_id=self.process_id,
            gate=self.gate,
            round=self.round,
            approver=self.approver,
            token_id=self.token_id,
            expires_at=self.expires_at,
            content_hash=self.content_hash,
            on_behalf_of=self.on_behalf_of,
        )


class BatchRequest(Model):
    """Send one message to a batch of recipients, each under their own idempotency key (`key` + recipient)."""

    process_id: str
    key: str
    template: str
    recipients: list[str]
    context: dict[str, Any] = Field(default_factory=dict)


class BatchResult(Model):
    """Each recipient's outcome: ``sent``, or ``refused: <why>``."""

    outcomes: dict[str, str] = Field(default_factory=dict)


class Delivery(Model):
    """What happened to a message or issue request."""

    key: str
    channel: str
    to: list[str] = Field(default_factory=list)
    outcome: Literal["sent", "sent_again", "duplicate", "skipped"] = "sent"
    """``sent_again``: an earlier attempt's outcome was unknown (it may have gone out), so it went out again;
    ``duplicate``: an earlier attempt made it; ``skipped``: the channel cannot carry this message (Teams cannot
    message a person), so nothing went out."""


class ApprovalClaims(Model):
    """What an approval link names; signed into its token."""

    process_id: str
    gate: str
    round: int
    approver: str
    token_id: str
    expires_at: datetime
    content_hash: str | None = None
    """For a message's review: the version the link asks about."""
    on_behalf_of: str | None = None
    """A delegate's link: the approver its holder decides for (absent from an approver's own link, so their
    tokens are what they always were)."""
