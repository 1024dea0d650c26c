"""The product launch: kickoff, checklist, go/no-go, launch day.

`run` tells the story; each step is a method below it, built from the step
primitives in `workflows.steps`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from itertools import groupby

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from domain.enums import GateStatus, StepStatus
from domain.launch import LaunchInput
from domain.models import ApprovalRecord, CancelInput, ItemState, ProcessView
from domain.postmortem import PostmortemInput, PostmortemParams
from domain.rules import Notice, at_hour, due_date, item_notices, schedule
from workflows.steps.approval import ApprovalGate
from workflows.steps.checklist import remind
from workflows.steps.gate import Email, GatedProcess, Moment
from workflows.steps.timers import sleep_until, wait_until
from workflows.steps.tracked import TrackedChecklist, item_lines


@workflow.defn(name="launch")
class LaunchWorkflow(GatedProcess, TrackedChecklist):
    """One product launch, from kickoff to announcement."""

    kind = "launch"
    noun = "launch"
    input: LaunchInput
    gate_step = "go-no-go"
    checklist_step = "checklist"

    @workflow.init
    def __init__(self, input: LaunchInput) -> None:
        params, template = input.params, input.template
        self.input = input
        self.launch_at = at_hour(params.launch_date, template.notify_hour_utc)
        self.gate_opens_at = self.launch_at - timedelta(days=template.gate.offset_days)
        items = [
            ItemState(
                key=item.key,
                title=item.title,
                role=item.role,
                owner=params.owner_of(item.role),
                due=due_date(params.launch_date, item.due_offset_days),
            )
            for item in template.items
        ]
        gate = ApprovalGate.new(
            template.gate,
            params.approvers,
            params.policy,
            owner=params.owner,
            allow_owner_approval=template.gate.allow_owner_approval,
        )
        context = {
            "product": params.product,
            "launch_date": params.launch_date.isoformat(),
            "owner": params.owner,
            "about": f"the launch of {params.product} on {params.launch_date}",
        }
        self.begin(params.heading(), params.owner, gate, context)
        self.begin_checklist(items)
        self.retrospective: str | None = None

    @workflow.run
    async def run(self, input: LaunchInput) -> ProcessView:
        """Run the launch; a cancellation at any point runs the clean-up."""
        return await self.run_body(self._launch)

    async def _launch(self) -> None:
        await self.audit.record(
            "started", actor=self.input.requested_by, params=self.input.params.model_dump(mode="json")
        )
        await self.kickoff()
        background = self.track(remind(self.checklist, self.reminder_schedule(), self.send_notices))
        try:
            await self.checklist_until_gate()
            if await self.go_no_go():
                await self.launch_day()
        finally:
            for task in background:
                task.cancel()

    # ---- 1. kickoff -----------------------------------------------------------

    async def kickoff(self) -> None:
        """Open an epic and one issue per item, post to the channel, email each owner."""
        params, tracker = self.input.params, self.input.template.tracker
        self._start_step("kickoff")
        await self.open_main_issue("epic", "kickoff", tracker.epic_type, params.owner, params.launch_date)
        items = list(self.checklist.items.values())
        await self.file_issues(items, [spec.description for spec in self.input.template.items], "item", "kickoff")
        await self.outbound.chat(
            "kickoff",
            "kickoff_chat",
            params.channel,
            "kickoff",
            items=item_lines(items),
            epic_key=self.main_issue or "the tracker",
            gate_opens=f"{self.gate_opens_at:%Y-%m-%d}",
        )
        by_owner = groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner)
        await asyncio.gather(
            *(
                self.outbound.email(f"kickoff:{owner}", "kickoff_owner", [owner], "kickoff", items=item_lines(owned))
                for owner, owned in by_owner
            )
        )
        self._finish_step("kickoff")

    # ---- 2. checklist ---------------------------------------------------------

    async def checklist_until_gate(self) -> None:
        """Track the items until every one is done or the gate's date comes."""
        self._start_step("checklist")
        await wait_until(lambda: self.checklist.all_done, self.gate_opens_at)
        if self.checklist.all_done:
            self._finish_step("checklist")

    def reminder_schedule(self) -> list[list[Notice]]:
        """Every reminder and escalation of this launch, grouped by moment."""
        template = self.input.template
        notices = [
            notice
            for item, spec in zip(self.checklist.items.values(), template.items, strict=True)
            for notice in item_notices(
                item.key,
                at_hour(item.due, template.notify_hour_utc),
                **template.reminders_for(spec).model_dump(),
                until=self.launch_at,
            )
        ]
        return schedule(notices, after=workflow.now())

    def item_resolved(self, item: ItemState) -> None:
        """Every item done before the gate opens ends the checklist step (and opens the gate early)."""
        if self.checklist.all_done and self.steps["checklist"].status == StepStatus.ACTIVE:
            self._finish_step("checklist")

    # ---- 3. go / no-go ------------------------------------------------------

    async def go_no_go(self) -> bool:
        """Ask the approvers until the gate is approved, rejected or expires."""
        gate_template = self.input.template.gate
        expires_at = self.launch_at + timedelta(days=gate_template.hold_days)
        self._start_step("go-no-go")
        while True:
            outcome = await self.gate_round(expires_at, gate_template.remind_every_days, remind_until=self.launch_at)
            if outcome == GateStatus.APPROVED:
                self._finish_step("go-no-go")
                return True
            if outcome != GateStatus.REJECTED or gate_template.on_reject != "reopen":
                await self.reject("go-no-go", "no go / no-go decision before the gate expired")
                return False

    async def announce_gate(self) -> None:
        """The channel hears that the gate is open and who decides."""
        state = self.gate.state
        await self.outbound.chat(
            f"gate:{state.round}",
            "gate_open_chat",
            self.input.params.channel,
            "go-no-go",
            approvers=state.approvers,
            required=state.required,
        )

    def request_context(self, approver: str) -> dict[str, object]:
        """The approvers see how far the checklist got."""
        checklist = self.checklist
        return {
            "done": checklist.done_count,
            "total": len(checklist.items),
            "open_items": item_lines(checklist.open_items()),
        }

    def gate_moments(self) -> list[Moment]:
        """On launch day without a decision, the launch is on hold: the owner is told."""
        return [(self.launch_at, self.hold)]

    async def hold(self) -> None:
        state = self.gate.state
        await self.outbound.email(
            f"hold:{state.round}",
            "on_hold",
            [self.input.params.owner],
            "go-no-go",
            waiting_on=state.waiting_on,
            expires_at=f"{state.expires_at:%Y-%m-%d %H:%M} UTC",
        )
        await self.audit.record("launch_on_hold", step="go-no-go", waiting_on=state.waiting_on)

    def decision_email(self, record: ApprovalRecord) -> Email:
        """The owner hears of every decision."""
        state = self.gate.state
        return Email(
            "decision",
            [self.input.params.owner],
            {
                "approver": record.approver,
                "decision": record.decision.value,
                "comment": record.comment,
                "gate_title": state.title,
                "gate_status": state.status.value,
                "approvals": self.gate.approvals,
                "required": state.required,
            },
        )

    # ---- 4. launch day ----------------------------------------------------------

    async def launch_day(self) -> None:
        """On the launch date, announce the launch and close the epic."""
        params = self.input.params
        self._start_step("launch-day")
        await sleep_until(self.launch_at)
        await self.outbound.email("announcement", "announcement", [*params.stakeholders, params.owner], "launch-day")
        await self.outbound.chat("announcement", "announcement_chat", params.channel, "launch-day")
        if self.main_issue:
            await self.outbound.close_issue(
                self.main_issue, self.input.template.tracker.done_status, "Launched.", "launch-day"
            )
        self._finish_step("launch-day")
        if self.steps["checklist"].status == StepStatus.ACTIVE:
            # Approved at go / no-go: the checklist is accepted; open items stay visible as open.
            self._finish_step("checklist")
        await self.schedule_retrospective()
        await self.finish("launched", step="launch-day")

    async def schedule_retrospective(self) -> None:
        """Start the launch's retrospective: a post-mortem that outlives the launch and kicks off
        `retrospective_after_days` after launch day, owned by the launch owner, reviewed by the approvers."""
        params, template, retro_template = self.input.params, self.input.template, self.input.retrospective
        if retro_template is None or not template.retrospective_after_days:
            return
        reviewers = [a for a in params.approvers if a != params.owner]
        if not reviewers:
            await self.audit.record("retrospective_skipped", step="launch-day", reason="no reviewer but the owner")
            return
        starts_at = self.launch_at + timedelta(days=template.retrospective_after_days)
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
                PostmortemInput(params=retro, template=retro_template, requested_by="signoff", parent=self.id),
                id=child_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            await self.audit.record("retrospective_skipped", step="launch-day", reason=f"{child_id} already exists")
            return
        self.retrospective = child_id
        await self.audit.record(
            "retrospective_scheduled", step="launch-day", process=child_id, starts_at=starts_at.isoformat()
        )

    # ---- the end, early -------------------------------------------------------

    async def tell_ended(self, action: str, why: CancelInput) -> None:
        """Everyone involved hears of it; the open issues and the epic are closed."""
        params = self.input.params
        people = {params.owner, *params.approvers, *(i.owner for i in self.checklist.open_items())}
        outcome = "cancelled" if action == "cancelled" else "rejected at go / no-go"
        await self.outbound.email(
            action, "ended", sorted(people), action, outcome=outcome, by=why.by, reason=why.reason
        )
        await self.outbound.chat(
            action, "ended_chat", params.channel, action, outcome=outcome, by=why.by, reason=why.reason
        )
        await self.close_open_issues(f"Launch {outcome}. {why.reason}".strip(), action)

    # ---- what users see ------------------------------------------------------

    @workflow.query
    def view(self) -> ProcessView:
        """The launch as the API and the dashboard show it."""
        return self.process_view(
            items=list(self.checklist.items.values()),
            links={"epic": self.main_issue or ""}
            | ({"retrospective": self.retrospective} if self.retrospective else {}),
        )
