"""An end of life's later milestones moved by the `edit` update: checked, made at once, told beside the story.

`MovableMilestones` adds to `EolWorkflow` the parts of `workflows.steps.edits.EditableProcess`'s hooks that move
``end_of_sale``, ``end_of_support`` and ``shutdown_date``: the waits on them plan again (`plan_changes`), as a
launch's do on its date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from temporalio import workflow

from domain.edits import MOVABLE_MILESTONES, Change, EditInput, milestone_moved, milestones_moved
from domain.enums import GateStatus, StepStatus
from domain.eol import EolInput
from domain.errors import Conflict, InvalidField
from domain.requests import IssueUpdate
from workflows.steps.edits import FollowUp
from workflows.steps.gate import GatedProcess
from workflows.steps.refusal import refuse
from workflows.steps.tracked import TrackedChecklist

ANCHORS = {"end_of_sale": "end_of_sale", "end_of_support": "end_of_support", "shutdown_date": "shutdown"}
"""A movable milestone's field → its anchor (`moment`, the tasks' `anchor`)."""
STEPS = {"end_of_sale": "end-of-sale", "end_of_support": "end-of-support", "shutdown_date": "shutdown"}
"""A movable milestone's field → its step, started once the milestone has come."""


class MovableMilestones(GatedProcess, TrackedChecklist):
    """An end of life's edit of its later milestones (its waits plan again on `plan_changes`)."""

    input: EolInput

    def moment(self, key: str, offset_days: int = 0) -> datetime:
        """When a milestone falls, plus days (the end of life says)."""
        raise NotImplementedError

    def plug_opens(self) -> datetime:
        """When the last approval opens: the template's days before the shutdown."""
        return self.moment("shutdown", -self.input.template.gate.offset_days)

    def editable(self) -> set[str]:
        """The later milestones (and the announcement, to say why it cannot move), besides the gate's approvers
        and the tasks."""
        return super().editable() | {"announce_date", *MOVABLE_MILESTONES}

    def edit_changes(self, input: EditInput) -> list[Change]:
        """Milestones moved: refused once passed, into the past, out of order, or closer together than the
        template's minimum notice; the announcement, once its notice is under way."""
        changes = super().edit_changes(input)
        if input.announce_date is not None:
            raise refuse(
                Conflict("the customer notice is under way (reviewed, then sent on its date): the announcement can "
                         "no longer move")
            )  # fmt: skip
        moves, params = input.milestones(), self.input.params
        for field in moves:
            if self.moment(ANCHORS[field]) <= workflow.now() or self.steps[STEPS[field]].status != StepStatus.PENDING:
                said = field.replace("_", " ")
                raise refuse(Conflict(f"{said} was on {getattr(params, field)}: it has passed and can no longer move"))
        if not moves:
            return changes
        try:
            moved = milestones_moved(params, moves, workflow.now().astimezone(params.zone).date(), self.input.template)
        except InvalidField as error:
            raise refuse(error) from None
        return [*changes, *moved]

    def apply_edit(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The new days, now: the waits plan again (`plan_changes`), the tasks anchored on a moved milestone are
        due as many days later (or earlier), an open last approval stays open until the shutdown's hold. The
        tracker and the people follow beside the story."""
        follow_ups = super().apply_edit(input, tag)
        moves, params, template = input.milestones(), self.input.params, self.input.template
        if not moves:
            return follow_ups
        shifts = {ANCHORS[field]: (day - getattr(params, field)).days for field, day in moves.items()}
        said = [milestone_moved(field, getattr(params, field), day) for field, day in moves.items()]
        self.input.params = params.model_copy(update=moves)
        self.title = self.input.params.heading()
        self.outbound.context |= {k: v for k, v in self.input.params.facts().items() if k != "days_left"}
        gate = self.gate.state
        if "shutdown_date" in moves and gate.status == GateStatus.OPEN:
            gate.expires_at = self.moment("shutdown", template.gate.hold_days)
            self.remind_until = self.moment("shutdown")
        anchors = {spec.key: spec.anchor for spec in [*template.tasks, *template.shutdown_tasks]}
        moved = [item for item in self.checklist.items.values() if shifts.get(anchors.get(item.key, ""))]
        for item in moved:
            item.due += timedelta(days=shifts[anchors[item.key]])
        self.plan_changes += 1
        self.changes += 1  # the tasks' reminders plan again
        told = partial(self.tell_milestones_moved, said, moves.get("shutdown_date"), tag, input, gate.round)
        return [*follow_ups, partial(self.tell_moved, [i for i in moved if self.checklist.is_open(i.key)], tag, input),
                told]  # fmt: skip

    async def tell_milestones_moved(
        self, said: list[str], shutdown: date | None, tag: str, input: EditInput, round_: int
    ) -> None:
        """The epic's due date (a shutdown moved); the owner, the approvers and the task owners told; an open last
        approval's approvers still to decide get a new link (their old one expires with the old date)."""
        params, gate = self.input.params, self.gate.state
        if shutdown is not None and self.main_issue:
            comment = f"Shutdown moved to {shutdown} by {input.by}. {input.reason}".strip()
            update = IssueUpdate(process_id="", issue_key=self.main_issue, due=shutdown, marker=f"{tag}:epic",
                                 comment=comment)  # fmt: skip
            await self.outbound.update_issue(update, self.checklist_step)
        people = sorted({params.owner, *params.approvers, *(i.owner for i in self.checklist.open_items())})
        await self.outbound.email(
            f"{tag}:moved", "changed", people, self.checklist_step, by=input.by, reason=input.reason, items=[],
            changes=[*said, f"the last approval opens on {self.plug_opens():%Y-%m-%d}"],
        )  # fmt: skip
        if shutdown is not None and gate.status == GateStatus.OPEN and gate.round == round_ and gate.waiting_on:
            await self.request_decisions(gate.waiting_on, asked=(tag, input.by))
