"""A launch moved by the `edit` update (and items added only until launch day): checked, made at once, told
beside the story.

`MovableLaunch` adds to `LaunchWorkflow` the parts of `workflows.steps.edits.EditableProcess`'s hooks that move
``launch_date``: launch day, the gate's opening (or an open gate's expiry) and every due date follow, and the
waits plan again (`plan_changes`). The launch keeps its id.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from temporalio import workflow

from domain.edits import Change, EditInput, days_moved
from domain.enums import GateStatus, StepStatus
from domain.errors import Conflict, InvalidField
from domain.launch import LaunchInput
from domain.requests import IssueUpdate
from domain.rules import local_time
from workflows.steps.edits import FollowUp
from workflows.steps.gate import GatedProcess
from workflows.steps.refusal import refuse
from workflows.steps.tracked import TrackedChecklist


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
        return [*changes, Change(what="launch_date", before=old.isoformat(), after=new.isoformat(), sentence=sentence)]

    def can_add_items(self) -> None:
        """Items are added until launch day: after it, the items still open are only chased to their end."""
        if self.steps["launch-day"].status != StepStatus.PENDING:
            raise refuse(Conflict("launch day has come: items can no longer be added"))

    def apply_edit(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The new date, now: launch day, the gate's opening (or an open gate's expiry), every due date; the waits
        plan again (`plan_changes`). The tracker and the people follow beside the story."""
        follow_ups = super().apply_edit(input, tag)
        params, new = self.input.params, input.launch_date
        if new is None:
            return follow_ups
        old, days = params.launch_date, (new - params.launch_date).days
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
        moved = self.move_items(days, tag, input)
        was_open = gate.status == GateStatus.OPEN
        return [*follow_ups, moved, partial(self.tell_launch_moved, old, new, tag, input, gate.round, was_open)]

    async def tell_launch_moved(
        self, old: date, new: date, tag: str, input: EditInput, round_: int, was_open: bool
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
            changes=[f"the launch moves from {old} to {new} ({days_moved(old, new)})", when],
        )  # fmt: skip
        if input.clashes:
            await self.outbound.email(
                f"{tag}:clashes", "launch_clash", [params.owner], "kickoff", clashes=input.clashes
            )
        opened_by_the_move = not was_open and workflow.patched("launch-moved-asks-once")
        if gate.status == GateStatus.OPEN and gate.round == round_ and gate.waiting_on and not opened_by_the_move:
            await self.request_decisions(gate.waiting_on, asked=(tag, input.by))
