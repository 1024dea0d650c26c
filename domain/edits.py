"""Editing a running process (update `edit`): what may change, and the pure rules that check a change.

An edit names only what changes: the launch date, the approvers (or reviewers) of its gate, the owners of
items, the items themselves (added, removed). Each is checked against the process as it stands
(`workflows.steps.edits`), recorded as one ``edited`` audit event with every change's before and after, and
told to the people it affects.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field, model_validator

from domain.enums import Channel, Decision, GateStatus
from domain.errors import Conflict, InvalidField
from domain.models import MAX_APPROVERS, ApprovalRecord, Email, Model, Policy, ProcessView
from domain.rules import gate_outcome, required_approvals


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


People = Annotated[list[Email], Field(max_length=MAX_APPROVERS), BeforeValidator(_split_commas)]


class ApproverEdits(Model):
    """Who joins and leaves a gate: ``replace`` (old → new: the new person takes the old one's place),
    ``add``, ``remove``."""

    replace: dict[Email, Email] = Field(default_factory=dict, max_length=MAX_APPROVERS)
    add: People = Field(default_factory=list)
    remove: People = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether it changes nobody."""
        return not (self.replace or self.add or self.remove)


ItemOwners = Annotated[dict[Annotated[str, Field(max_length=60)], Email], Field(max_length=200)]
"""Item key → its new owner."""


class NewItem(Model):
    """An item added to a running checklist: its key is made from its title (`item_key`)."""

    title: str = Field(min_length=1, max_length=200)
    owner: Email
    due: date


ItemKeys = Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=200), BeforeValidator(_split_commas)]


def item_key(title: str, taken: set[str]) -> str:
    """The key of an item titled `title`, as a template's keys read (``security-review``), not one in `taken`:
    ``-2``, ``-3``… is added when it would be."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or "item"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key


class EditChanges(Model):
    """What an edit changes: only what is named (``POST /api/processes/{id}/edits``' body)."""

    launch_date: date | None = None
    """A launch's new date: launch day, the gate's opening, every item's due date (by as many days), the
    reminders and the retrospective follow it. The launch keeps its id."""
    send_at: AwareDatetime | None = None
    """A message's new send time (with its zone): the wait for it follows. The message keeps its id."""
    approvers: ApproverEdits | None = None
    """Who decides at the gate (a message's or a post-mortem's reviewers)."""
    owners: ItemOwners = Field(default_factory=dict)
    """Items reassigned: their tracker issues follow, the new owners are told and reminded."""
    add_items: list[NewItem] = Field(default_factory=list, max_length=50)
    """Items added to the checklist: each gets its tracker issue and reminders, its owner is told."""
    remove_items: ItemKeys = Field(default_factory=list)
    """Open items taken off the checklist: each is kept as won't-do ("removed by …"), its issue closed as won't
    do, its owner told."""
    reason: str = Field("", max_length=2000)
    """Why, told to the people the edit affects and kept in the trail."""

    @model_validator(mode="after")
    def _something(self) -> EditChanges:
        if not self.named():
            raise ValueError(
                "nothing to change: name a launch_date, a send_at, approvers (replace, add, remove), owners, "
                "add_items or remove_items"
            )
        return self

    def named(self) -> set[str]:
        """The parts this edit changes."""
        parts = {
            "launch_date": self.launch_date is not None,
            "send_at": self.send_at is not None,
            "approvers": bool(self.approvers and not self.approvers.empty),
            "owners": bool(self.owners),
            "add_items": bool(self.add_items),
            "remove_items": bool(self.remove_items),
        }
        return {name for name, given in parts.items() if given}


class EditInput(EditChanges):
    """Change a running process (update `edit`): the changes, and who asks through which channel."""

    by: str = "system"
    channel: Channel = Channel.API


class Change(Model):
    """One thing an edit changed, as the trail and the answer say it."""

    what: str
    """``launch_date``, ``approvers``, ``owner:ITEM``, ``added:ITEM``, ``removed:ITEM``."""
    before: Any = None
    after: Any = None
    sentence: str
    """In words: "the launch date moves from 2026-12-15 to 2026-12-22 (7 days later)"."""


class Edited(Model):
    """The answer of an edit: what changed, and the process as it is now."""

    changes: list[Change]
    view: ProcessView


def days_moved(before: date, after: date) -> str:
    """ "7 days later", "1 day earlier"."""
    days = (after - before).days
    return f"{abs(days)} day{'s' if abs(days) != 1 else ''} {'later' if days > 0 else 'earlier'}"


def edited_approvers(
    current: list[str],
    edits: ApproverEdits,
    policy: Policy,
    not_allowed: dict[str, str],
    title: str,
) -> list[str]:
    """The approvers of a gate after `edits`: the removed ones gone, the replaced ones' places taken, the added
    ones at the end.

    Args:
        current: the gate's approvers now.
        not_allowed: people who may not decide at this gate, each with why (the owner of their own gate).
        title: the gate's title, for the sentences.

    Raises:
        InvalidField: naming ``approvers.replace``, ``approvers.add`` or ``approvers.remove``: someone not on the
            gate, someone on it already, someone who may not decide it, or nobody left.
        Conflict: the gate's policy can no longer be met by the approvers left (a quorum of 3 with 2).
    """
    after = list(current)
    for person in edits.remove:
        if person not in after:
            raise InvalidField("approvers.remove", f"{person} is not an approver of {title}")
        after.remove(person)
    for old, new in edits.replace.items():
        if old not in after:
            raise InvalidField("approvers.replace", f"{old} is not an approver of {title}")
        if new == old:
            raise InvalidField("approvers.replace", f"{old} cannot replace themselves")
        after[after.index(old)] = new
    after += edits.add
    for field, joining in (("approvers.replace", list(edits.replace.values())), ("approvers.add", edits.add)):
        for person in joining:
            if after.count(person) > 1:
                raise InvalidField(field, f"{person} is an approver of {title} already")
            if person in not_allowed:
                raise InvalidField(field, not_allowed[person])
    if not after:
        raise InvalidField("approvers.remove", f"{title} needs at least one approver: replace them instead")
    if len(after) > MAX_APPROVERS:
        raise InvalidField("approvers.add", f"{title} takes at most {MAX_APPROVERS} approvers")
    try:
        required_approvals(policy, len(after))
    except ValueError:
        raise Conflict(
            f"{title} needs {policy} approvals, which {len(after)} approver{'s' if len(after) != 1 else ''} "
            "cannot give: add someone, or replace rather than remove"
        ) from None
    return after


def outcome_with(policy: Policy, approvers: list[str], decisions: list[ApprovalRecord], title: str) -> GateStatus:
    """The outcome of an open round with `approvers` and this round's `decisions` (of those still on the gate).

    Raises:
        Conflict: with these approvers the round could no longer be approved (those left who said no are enough
            to block it): an edit must not reject a gate on the approvers' behalf.
    """
    outcome = gate_outcome(policy, approvers, decisions)
    if outcome == GateStatus.REJECTED:
        said_no = sorted({d.for_whom for d in decisions if d.for_whom in approvers and d.decision != Decision.APPROVE})
        raise Conflict(
            f"with these approvers {title} could no longer be approved ({', '.join(said_no)} did not approve): "
            "the gate's policy can no longer be met"
        )
    return outcome
