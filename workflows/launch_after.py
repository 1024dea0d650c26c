"""A launch after launch day: the items left open chased to their end or handed to the retrospective, and the
retrospective started (a `postmortem` child that outlives the launch).

`AfterLaunch` is the part of `workflows.launch.LaunchWorkflow` that runs once launch day has come; the launch's
`run` reads top to bottom without it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from domain.enums import StepStatus
from domain.postmortem import PostmortemInput, PostmortemParams
from domain.rules import Notice, schedule
from domain.views import ItemState
from domain.words import count
from workflows.launch_edits import MovableLaunch
from workflows.steps.checklist import remind

AFTER_LAUNCH = timedelta(days=365)
"""How long after launch day the items still open are reminded of (their schedule is worked out once)."""


class AfterLaunch(MovableLaunch):
    """Launch day's sequel: open items tracked or handed over, the retrospective scheduled."""

    retrospective: str | None
    """The retrospective's process id, once it is started."""

    def notices_until(self, until: datetime) -> list[Notice]:
        """The items' reminders and escalations up to `until` (the launch says)."""
        raise NotImplementedError

    launched: bool = False
    """Launch day has come and gone with items open, which the launch goes on tracking (`track_after_launch`)."""

    async def after_launch(self, left_open: list[ItemState]) -> None:
        """Launched with items open: hand them to the retrospective if the template says so and there is one,
        else keep chasing them until each is resolved. Either way the launch says how many were open, and its
        checklist step is not done."""
        if self.input.template.open_items_after_launch == "retrospective":
            if await self.schedule_retrospective(handed=left_open):
                await self.hand_over(left_open)
                return
        else:
            await self.schedule_retrospective()
        self.launched, self.outcome = True, f"launched with {count(len(self.checklist.open_items()), 'open item')}"
        await self.audit.record("launched_with_open_items", step="launch-day", items=[i.key for i in left_open])
        await self.track_after_launch(len(left_open))

    async def track_after_launch(self, left_open: int) -> None:
        """Remind and escalate the items left open after launch day, at the template's cadence, until every one
        is done or accepted as won't-do (the tracker is still reconciled); then close the epic and complete."""
        after_launch = self.notices_until(self.launch_at + AFTER_LAUNCH)
        await remind(self.checklist, schedule(after_launch, after=workflow.now()), self.send_notices)
        await workflow.wait_condition(lambda: self.checklist.all_done)
        if self.main_issue:
            await self.outbound.close_issue(
                self.main_issue, self.input.template.tracker.done_status, "Launched; every item resolved.", "checklist"
            )
        await self.finish(f"launched; {count(left_open, 'item')} resolved after launch day", step="checklist")

    async def hand_over(self, left_open: list[ItemState]) -> None:
        """The items left open went to the retrospective: the epic is closed, the checklist step handed over, and
        the launch ends saying so."""
        said = f"launched with {count(len(left_open), 'open item')}, handed to the retrospective"
        if self.main_issue:
            done, comment = self.input.template.tracker.done_status, f"{said.capitalize()} ({self.retrospective})."
            await self.outbound.close_issue(self.main_issue, done, comment, "launch-day")
        self._finish_step("checklist", StepStatus.HANDED_OVER)
        await self.finish(
            said, step="launch-day", open_items=[i.key for i in left_open], retrospective=self.retrospective
        )

    async def schedule_retrospective(self, handed: list[ItemState] | None = None) -> bool:
        """Start the launch's retrospective: a post-mortem that outlives the launch and kicks off
        `retrospective_after_days` after launch day, owned by the launch owner, reviewed by the approvers, given
        the `handed` items to track as action items. Whether it was started."""
        params, template, retro_template = self.input.params, self.input.template, self.input.retrospective
        if retro_template is None or not template.retrospective_after_days:
            return False
        reviewers = [a for a in params.approvers if a != params.owner]
        if not reviewers:
            await self.audit.record("retrospective_skipped", step="launch-day", reason="no reviewer but the owner")
            return False
        starts_at = self.days_from_launch(template.retrospective_after_days)
        retro = PostmortemParams(
            owner=params.owner,
            incident=self.id,
            title=f"Launch retrospective: {params.product}",
            commander=params.owner,
            participants=sorted({i.owner for i in self.checklist.items.values()} - {params.owner}),
            reviewers=reviewers,
            resolved_at=self.launch_at,
            starts_at=starts_at,
            channel=params.channel,
            jira_project=params.jira_project,
            template=template.retrospective_template,
        )
        child_id = retro.id(self.launch_at.date())
        try:
            await workflow.start_child_workflow(
                "postmortem",
                PostmortemInput(
                    params=retro, template=retro_template, requested_by="signoff", parent=self.id,
                    launch_items=handed or [],
                ),
                id=child_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )  # fmt: skip
        except WorkflowAlreadyStartedError:
            await self.audit.record("retrospective_skipped", step="launch-day", reason=f"{child_id} already exists")
            return False
        self.retrospective = child_id
        items: dict[str, Any] = {"items": [i.key for i in handed]} if handed else {}
        await self.audit.record(
            "retrospective_scheduled", step="launch-day", process=child_id, starts_at=starts_at.isoformat(), **items
        )
        return True
