"""What a user sees of a running process: the answer of its `view` query (`ProcessView`) and its parts — the
checklist's items, the gates and their decisions, the steps, what is held, planned or undelivered.

The parameters and policy types they are built from are in `domain.models`. New fields must be optional so
running workflows keep replaying.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import model_validator

from domain.enums import Channel, Decision, GateStatus, ProcessStatus, StepStatus
from domain.models import Model, Policy, RecoveryAction


class ItemState(Model):
    """One checklist item of a running process."""

    key: str
    title: str
    role: str
    owner: str
    due: date
    status: Literal["open", "done", "wont_do"] = "open"
    done_at: datetime | None = None
    done_by: str | None = None
    issue_key: str | None = None
    priority: str | None = None
    """An action item's priority (``P1``…``P3``), which sets how often its owner is reminded."""
    note: str = ""
    """Why an item was accepted as won't-do."""


class Content(Model):
    """One version of a message: what reviewers approve, bound by its hash."""

    version: int
    subject: str
    body: str
    """Markdown; the plain-text part of the email as it is."""
    content_hash: str
    by: str
    at: datetime
    comment: str = ""


class ApprovalRecord(Model):
    """One decision taken at a gate."""

    gate: str
    round: int = 1
    approver: str
    decision: Decision
    comment: str = ""
    at: datetime
    channel: Channel = Channel.LINK
    token_id: str | None = None
    content_hash: str | None = None
    """For a message's review: the hash of the exact version this decision was about."""
    on_behalf_of: str | None = None
    """The approver this decision was taken for, when `approver` decided in their place (a delegate, or the
    gate's backup): the quorum counts it as theirs."""

    @property
    def for_whom(self) -> str:
        """The approver whose decision this is: `on_behalf_of`, else `approver`."""
        return self.on_behalf_of or self.approver


class GateState(Model):
    """An approval gate: who must decide, what they decided, where it stands."""

    key: str
    title: str
    round: int = 1
    status: GateStatus = GateStatus.PENDING
    approvers: list[str]
    policy: Policy
    required: int
    opened_at: datetime | None = None
    expires_at: datetime | None = None
    decisions: list[ApprovalRecord] = []
    require_sign_in: bool = False
    """Whether an approver must be signed in (as themselves) to decide, not only hold their link."""
    removed: list[str] = []
    """People taken off the gate by an edit: their links no longer decide (`Expired`, not "not an approver")."""
    delegates: dict[str, str] = {}
    """Approver → the person they handed their decision to (or the gate's backup, asked when they were silent):
    that person decides on their behalf, once, until one of the two has decided."""

    def decision_of(self, approver: str) -> ApprovalRecord | None:
        """This round's decision of `approver`, if they (or someone on their behalf) took one."""
        return next((d for d in self.decisions if d.for_whom == approver and d.round == self.round), None)

    @property
    def waiting_on(self) -> list[str]:
        """Approvers who have not decided in this round."""
        return [a for a in self.approvers if self.decision_of(a) is None]


class StepView(Model):
    """One step of a process and its state."""

    key: str
    title: str
    status: StepStatus = StepStatus.PENDING
    at: datetime | None = None


class PendingApproval(Model):
    """Someone a gate still waits on."""

    gate: str
    approver: str
    since: datetime | None = None


class UndeliveredMessage(Model):
    """A message the process could not deliver, kept until it is resent (update `resend`)."""

    key: str
    via: Literal["email", "chat"]
    to: list[str]
    what: str
    """What it was, in words: "email vp@example.com their approval link"."""
    step: str
    error: str
    at: datetime
    resending: bool = False
    """A resend is under way."""


class PlannedMoment(Model):
    """A dated point of a process's plan: a gate opening, launch day, a milestone, a scheduled send."""

    at: datetime
    what: str
    """In words: "the go / no-go decision opens", "launch day"."""
    step: str | None = None
    """The step it belongs to, when it is one."""


class HeldStep(Model):
    """A step that failed or was rejected and waits for its process owner's word instead of ending the process
    (`workflows.steps.recovery`): re-run it, skip it, or end the process, with a reason."""

    step: str
    title: str
    what: str
    """What happened, in words: "Go / no-go was rejected"."""
    why: str
    """Why, in words: the approvers' comments, or how the notice ended."""
    since: datetime
    until: datetime
    """Without the owner's word by then, the process ends as it would have without the hold."""
    actions: list[RecoveryAction]
    """What the owner may do with it (an approval gate is not skipped)."""


class ProcessView(Model):
    """Everything a user sees about a process; the answer of the `view` query."""

    id: str
    kind: str
    title: str
    status: ProcessStatus
    owner: str
    params: dict[str, Any]
    steps: list[StepView]
    items: list[ItemState] = []
    gates: list[GateState] = []
    approvals: list[ApprovalRecord] = []
    links: dict[str, str] = {}
    outcome: str | None = None
    content: Content | None = None
    """The message under review (comms): its current version."""
    pending: list[PendingApproval] = []
    """Who the open gates still wait on; worked out from `gates`."""
    recorded_events: int = 0
    """How many audit events the process has recorded; the store has them all once its trail is as long."""
    undelivered: list[UndeliveredMessage] = []
    """The messages that could not be delivered (after their retries, or refused), until resent."""
    warnings: list[str] = []
    """What the owner was warned of when it started or last moved (another launch on its day with the same people)."""
    plan: list[PlannedMoment] = []
    """The process's dated plan, in time order (passed moments included): what the calendar and "next" show."""
    held: HeldStep | None = None
    """The step held for the owner's word, if one is (`HeldStep`)."""
    live: bool = True
    """False when the process could not answer (no worker polling, Temporal down) and this is the store's copy,
    kept from its audit events: the state as of `as_of`, for the reason in `unavailable`."""
    as_of: datetime | None = None
    """When the store's copy was taken (None when `live`)."""
    unavailable: str | None = None
    """Why the live state could not be had (None when `live`)."""

    @model_validator(mode="after")
    def _pending_from_gates(self) -> ProcessView:
        self.pending = [
            PendingApproval(gate=gate.key, approver=approver, since=gate.opened_at)
            for gate in self.gates
            if gate.status == GateStatus.OPEN
            for approver in gate.waiting_on
        ]
        return self
