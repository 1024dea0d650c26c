"""A launch moved by the `edit` update (and items added only until launch day): checked, made at once, told
beside the story.

`MovableLaunch` adds to `LaunchWorkflow` the parts of `workflows.steps.edits.EditableProcess`'s hooks that move
``launch_date``: launch day, the gate's opening (or an open gate's expiry) and every due date follow, and the
waits plan again (`plan_changes`). The launch keeps its id. A move earlier that leaves the open items less time
than their dates assume is fitted into the days left as a late start is (`LAUNCH_MOVED_EARLIER`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from functools import partial

from temporalio import workflow

from domain.edits import Change, EditInput, days_moved
from domain.enums import GateStatus, StepStatus
from domain.errors import Conflict, InvalidField
from domain.late_start import Compression, KickoffFacts, MovedItem, compress
from domain.launch import LaunchInput
from domain.requests import IssueUpdate
from domain.rules import local_time
from domain.views import ItemState
from domain.words import count
from workflows.steps.edits import FollowUp
from workflows.steps.gate import GatedProcess
from workflows.steps.refusal import refuse
from workflows.steps.tracked import TrackedChecklist

LAUNCH_MOVED_EARLIER = "launch-moved-earlier"
"""The patch for a launch moved earlier with items open that are late, or that the move would make due before
today: a late item keeps its date (a move does not make it later still); the items still on time are fitted into
the days left before launch day, as a late start's are (the template's ``compress_when_late``; a
``checklist_compressed`` event says how); and the owner hears at once of the items the move put past their
escalation. Called only by such a move; before it, every item moved, into the past too, and the escalations it
passed were never sent."""

ADDED_ITEMS_KEEP_THEIR_DATES = "edit-added-items-keep-their-dates"
"""The patch for an edit that adds items and moves the launch at once: the added items are due when the edit says
(their dates are given for the new plan). Called only by such an edit; before it, they moved with the others."""


class MovableLaunch(GatedProcess, TrackedChecklist):
    """A launch's edit of its date (its waits plan again on `plan_changes`)."""

    input: LaunchInput
    launch_at: datetime
    gate_opens_at: datetime

    def days_from_launch(self, days: int) -> datetime:
        """The template's hour `days` from launch day (the launch says)."""
        raise NotImplementedError

    def today(self) -> date:
        """Today, in workflow time (the launch says)."""
        raise NotImplementedError

    def kickoff_facts(self) -> KickoffFacts:
        """Which items are late or past their escalation now (the launch says)."""
        raise NotImplementedError

    async def escalate_at_once(self, items: list[ItemState], key: str = "kickoff", step: str = "kickoff") -> None:
        """The owner told of `items` past their escalation, now (the launch says)."""
        raise NotImplementedError

    def editable(self) -> set[str]:
        """The launch date, besides the gate's approvers and the items' owners."""
        return super().editable() | {"launch_date"}

    def edit_changes(self, input: EditInput) -> list[Change]:
        """A new launch date: refused in the past, unchanged, or once the go / no-go gate is decided (launch day is
        then on its way)."""
        changes = super().edit_changes(input)
        new, old = input.launch_date, self.input.params.launch_date
        if new is None:
            return changes
        if new < self.today():
            raise refuse(InvalidField("launch_date", f"{new} is in the past (today is {self.today()})"))
        if new == old:
            raise refuse(InvalidField("launch_date", f"the launch is on {new} already"))
        gate = self.gate.state
        if gate.status not in (GateStatus.PENDING, GateStatus.OPEN) or self.steps["launch-day"].status != "pending":
            raise refuse(Conflict(f"{gate.title} is {gate.status.value}: the launch date can no longer move"))
        opens = new - timedelta(days=self.input.template.gate.offset_days)
        follows = "the open gate's expiry" if gate.status == GateStatus.OPEN else f"the go / no-go opening ({opens})"
        sentence = (
            f"the launch moves from {old} to {new} ({days_moved(old, new)}): launch day, {follows}, every item's due "
            "date and its reminders follow"
        )
        if compression := self.compression_for(new):  # (the items this edit adds are not in the checklist yet)
            sentence += f"; {compressed(compression)}"
        return [*changes, Change(what="launch_date", before=old.isoformat(), after=new.isoformat(), sentence=sentence)]

    def can_add_items(self) -> None:
        """Items are added until launch day: after it, the items still open are only chased to their end."""
        if self.steps["launch-day"].status != StepStatus.PENDING:
            raise refuse(Conflict("launch day has come: items can no longer be added"))

    def apply_edit(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The new date, now: launch day, the gate's opening (or an open gate's expiry), every due date; the waits
        plan again (`plan_changes`). The tracker and the people follow beside the story."""
        had = set(self.checklist.items)
        follow_ups = super().apply_edit(input, tag)
        params, new = self.input.params, input.launch_date
        if new is None:
            return follow_ups
        old, days, earlier = params.launch_date, (new - params.launch_date).days, new < params.launch_date
        added = set(self.checklist.items) - had
        if added and not workflow.patched(ADDED_ITEMS_KEEP_THEIR_DATES):
            added = set()
        late = {i.key for i in self.checklist.open_items() if earlier and i.due < self.today() and i.key not in added}
        compression = self.compression_for(new, added)
        if (compression or late) and not workflow.patched(LAUNCH_MOVED_EARLIER):
            late, compression = set(), None
        escalated = set(self.kickoff_facts().escalate) if earlier else set()  # (a move later passes none)
        self.input.params = params.model_copy(update={"launch_date": new})
        self.launch_at = self.days_from_launch(0)
        self.gate_opens_at = self.days_from_launch(-self.input.template.gate.offset_days)
        self.title = self.input.params.heading()
        self.input.clashes = list(input.clashes)  # what the view warns of: the new day's, not the old one's
        self.outbound.context |= {"launch_date": new.isoformat(), "about": f"the launch of {params.product} on {new}"}
        gate = self.gate.state
        if gate.status == GateStatus.OPEN:
            gate.expires_at = self.launch_at + timedelta(days=self.input.template.gate.hold_days)
            self.remind_until = self.launch_at
        self.plan_changes += 1
        moved = self.move_items(days, tag, input, keep=added | late)
        fitted = self.fit_into_the_days_left(compression) if compression else []
        was_open = gate.status == GateStatus.OPEN
        told = partial(self.tell_launch_moved, old, new, tag, input, gate.round, was_open, compression)
        passed = self.escalations_passed(escalated, tag) if earlier else []
        return [*follow_ups, *fitted, moved, told, *passed]

    def compression_for(self, new: date, added: Collection[str] = ()) -> Compression | None:
        """How the open items still on time and due before launch day would be fitted into the days left if
        launch day moved earlier to `new` and one of them would then be due before today
        (`domain.late_start.compress`, as a late start); each item's ``before`` is its date before the move, and
        only the items it changes are named. None when none would be, or the template keeps its dates. An item
        already late, one due on or after launch day, and one this edit adds (`added`) are not fitted."""
        template, old, today = self.input.template, self.input.params.launch_date, self.today()
        if new >= old or not template.compress_when_late:
            return None
        items = [item for item in self.checklist.open_items() if today <= item.due < old and item.key not in added]
        compression = compress([(i.key, (i.due - old).days) for i in items], new, today, template.gate.offset_days)
        if compression is None:
            return None
        due = {item.key: item.due for item in items}
        changed = [
            MovedItem(item=m.item, before=due[m.item], after=m.after)
            for m in compression.items
            if m.after != m.before  # (`before` here: its date moved with launch day)
        ]
        return compression.model_copy(update={"items": changed})

    def fit_into_the_days_left(self, compression: Compression) -> list[FollowUp]:
        """The moved items' due dates as `compression` says, now; the trail's ``checklist_compressed`` follows."""
        for item in compression.items:
            self.checklist.items[item.item].due = item.after
        return [partial(self.audit.record, "checklist_compressed", step="checklist", **compression.audit())]

    def escalations_passed(self, before: set[str], tag: str) -> list[FollowUp]:
        """The owner told at once of the open items the move put past their escalation (`before`: those past it
        already): the schedule has no moment left for them."""
        open_items = {item.key: item for item in self.checklist.open_items()}
        passed = [open_items[key] for key in self.kickoff_facts().escalate if key in open_items and key not in before]
        if not passed or not workflow.patched(LAUNCH_MOVED_EARLIER):
            return []
        return [partial(self.escalate_at_once, passed, tag, "checklist")]

    async def tell_launch_moved(
        self,
        old: date,
        new: date,
        tag: str,
        input: EditInput,
        round_: int,
        was_open: bool,
        compression: Compression | None = None,
    ) -> None:
        """The epic's due date; the owner, the approvers and the stakeholders told; an open gate's approvers still
        to decide get a new link (their old one expires with the old date). A gate the move opened (`was_open`
        False: it opens at once when the new date is near) asked them as it opened: they are not asked twice."""
        params, gate = self.input.params, self.gate.state
        if self.main_issue:
            said = f"Launch moved from {old} to {new} by {input.by}. {input.reason}".strip()
            update = IssueUpdate(process_id="", issue_key=self.main_issue, due=new, marker=f"{tag}:epic", comment=said)
            await self.outbound.update_issue(update, "checklist")
        when = (
            f"the go / no-go decision stays open until {local_time(gate.expires_at, params.time_zone)}"
            if gate.status == GateStatus.OPEN and gate.expires_at
            else f"the go / no-go decision opens on {self.gate_opens_at:%Y-%m-%d}"
        )
        people = sorted({params.owner, *params.approvers, *params.stakeholders})
        await self.outbound.email(
            f"{tag}:moved", "changed", people, "checklist", by=input.by, reason=input.reason, items=[],
            changes=[f"the launch moves from {old} to {new} ({days_moved(old, new)})", when,
                     *([compressed(compression)] if compression else [])],
        )  # fmt: skip
        if input.clashes:
            await self.outbound.email(
                f"{tag}:clashes", "launch_clash", [params.owner], "kickoff", clashes=input.clashes
            )
        opened_by_the_move = not was_open and workflow.patched("launch-moved-asks-once")
        if gate.status == GateStatus.OPEN and gate.round == round_ and gate.waiting_on and not opened_by_the_move:
            await self.request_decisions(gate.waiting_on, asked=(tag, input.by))


def compressed(compression: Compression) -> str:
    """What a move earlier did to the items, in a sentence."""
    items, left = count(len(compression.items), "open item"), count(compression.days_left, "day")
    return f"{items} fitted into the {left} left before launch day, none due before today"
