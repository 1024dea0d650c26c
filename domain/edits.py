"""Editing a running process (update `edit`): what may change, and the pure rules that check a change.

An edit names only what changes: the launch date, the approvers (or reviewers) of its gate, the owners of
items, the items themselves (added, removed). Each is checked against the process as it stands
(`workflows.steps.edits`), recorded as one ``edited`` audit event with every change's before and after, and
told to the people it affects.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BeforeValidator, Field, model_validator

from domain.enums import Channel, Decision, GateStatus
from domain.eol import MILESTONES, EolParams
from domain.errors import Conflict, InvalidField, refuse_all
from domain.horizon import beyond_horizon
from domain.models import MAX_APPROVERS, Email, Model, Policy
from domain.rules import gate_outcome, required_approvals
from domain.views import ApprovalRecord, ProcessView

MOVABLE_MILESTONES = ("end_of_sale", "end_of_support", "shutdown_date")
"""The milestones of an end of life an edit may move (the announcement goes out with its notice)."""


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
    announce_date: date | None = None
    """An end of life's announcement: refused once its customer notice is under way (it is from the kickoff on)."""
    end_of_sale: date | None = None
    """An end of life's later milestones, while still ahead: their waits, the tasks anchored on them (by as many
    days), the customer reminders not yet started and, for the shutdown, the last approval, the data's deletion
    and the epic's due date follow. Their order and the template's minimum notice between them still hold."""
    end_of_support: date | None = None
    shutdown_date: date | None = None
    send_at: datetime | None = None
    """A message's new send time: the wait for it follows. The message keeps its id. Without an offset it is read
    in the process's time zone, as a start's is (`taken`)."""
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
                "nothing to change: name a launch_date, an end of life's milestone, a send_at, approvers (replace, "
                "add, remove), owners, add_items or remove_items"
            )
        return self

    def taken(self, time_zone: str, now: datetime) -> EditChanges:
        """The edit as the process takes it (the web service, before it asks the process): a send time without an
        offset read in the process's `time_zone` (empty: UTC), as a start reads its times, and every date it gives
        checked against the horizon (`domain.horizon`), as a start's are.

        Args:
            time_zone: the process's time zone (its parameters' ``time_zone``).
            now: the time now; its day in `time_zone` is today.

        Raises:
            InvalidField: naming each date past the horizon (``launch_date``, ``send_at``, ``add_items.0.due``),
                every one at once.
        """
        zone = ZoneInfo(time_zone or "UTC")
        send_at = self.send_at
        if send_at is not None and send_at.tzinfo is None:
            send_at = send_at.replace(tzinfo=zone)
        today = now.astimezone(zone).date()
        dated = {name: getattr(self, name) for name in ("launch_date", "announce_date", *MOVABLE_MILESTONES)}
        problems = beyond_horizon(dated | {"send_at": send_at}, today)
        for n, item in enumerate(self.add_items):
            problems += beyond_horizon({"due": item.due}, today, prefix=f"add_items.{n}.")
        refuse_all(problems)
        return self.model_copy(update={"send_at": send_at})

    def milestones(self) -> dict[str, date]:
        """The end-of-life milestones this edit moves, each to its new day."""
        return {field: day for field in MOVABLE_MILESTONES if (day := getattr(self, field)) is not None}

    def named(self) -> set[str]:
        """The parts this edit changes."""
        parts = {
            "launch_date": self.launch_date is not None,
            "send_at": self.send_at is not None,
            **{field: getattr(self, field) is not None for field in ("announce_date", *MOVABLE_MILESTONES)},
            "approvers": bool(self.approvers and not self.approvers.empty),
            "owners": bool(self.owners),
            "add_items": bool(self.add_items),
            "remove_items": bool(self.remove_items),
        }
        return {name for name, given in parts.items() if given}


class EditInput(EditChanges):
    """Change a running process (update `edit`): the changes, and who asks through which channel."""

    send_at: AwareDatetime | None = None
    """A message's new send time, with its zone (`EditChanges.taken` reads one without in the process's)."""
    by: str = "system"
    channel: Channel = Channel.API
    clashes: list[str] = Field(default_factory=list)
    """Set by the web service, not the caller: the other running launches on a moved launch's new day that share
    its people (`domain.calendar.clashes`), in words; the owner is told, as at a start (a warning, not a refusal)."""

    def of_approvers(self, approvers: ApproverEdits | None = None) -> EditInput:
        """This edit's change of approvers (or `approvers`) alone, by the same person through the same channel, for
        the same reason: what an end of life passes on to its customer notices."""
        change = self.approvers if approvers is None else approvers
        return EditInput(by=self.by, channel=self.channel, reason=self.reason, approvers=change)


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


def milestones_moved(params: EolParams, moves: dict[str, date], today: date, template: Any) -> list[Change]:
    """The changes of an end of life's milestones moved to `moves`' days, checked as a start checks them.

    Args:
        params: the end of life's parameters now.
        moves: milestone field → its new day (`EditChanges.milestones`).
        today: the day it is in the process's time zone.
        template: its `EolTemplate`, whose minimum notice between milestones still holds
            (`EolParams.check_template`: one copy of the rule).

    Raises:
        InvalidField: naming the milestone moved into the past, not moved, or out of the order
            ``announce_date ≤ end_of_sale ≤ end_of_support ≤ shutdown_date``; or, of the milestones next to one
            moved, the one too close to the one before it (every one at once).
    """
    for field, new in moves.items():
        if new < today:
            raise InvalidField(field, f"{new} is in the past (today is {today})")
        if new == getattr(params, field):
            raise InvalidField(field, f"{field} is on {new} already")
    after = params.model_copy(update=moves)
    for earlier, later in pairwise(MILESTONES):
        before, then = getattr(after, earlier), getattr(after, later)
        if then < before:
            field, other = (later, earlier) if later in moves else (earlier, later)
            day, others = getattr(after, field), getattr(after, other)
            side = "before" if field == later else "after"
            raise InvalidField(field, f"{day} is {side} {other} ({others}): the dates go {' ≤ '.join(MILESTONES)}")
    touched = {later for earlier, later in pairwise(MILESTONES) if {earlier, later} & set(moves)}
    try:
        after.check_template(template)
    except InvalidField as error:  # a gap the edit does not touch is not its to refuse (a start checked it)
        refuse_all([one for one in error.each if one.field in touched])
    return [Change(what=field, before=getattr(params, field).isoformat(), after=new.isoformat(),
                   sentence=milestone_moved(field, getattr(params, field), new))
            for field, new in moves.items()]  # fmt: skip


def milestone_moved(field: str, before: date, after: date) -> str:
    """ "end of sale moves from 2027-01-10 to 2027-01-24 (14 days later)"."""
    return f"{field.replace('_', ' ')} moves from {before} to {after} ({days_moved(before, after)})"


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
