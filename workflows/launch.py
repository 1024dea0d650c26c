"""The product launch: kickoff, checklist, go/no-go, launch day.

`run` tells the story; each step is a method below it, built from the step
primitives in `workflows.steps`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from itertools import groupby

from temporalio import workflow
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError, is_cancelled_exception
from temporalio.workflow import ParentClosePolicy

from domain.enums import Channel, GateStatus, ProcessStatus, StepStatus
from domain.errors import Conflict
from domain.launch import LaunchInput
from domain.models import CancelInput, DecisionInput, GateState, ItemDoneInput, ItemState, ProcessView
from domain.postmortem import PostmortemInput, PostmortemParams
from domain.requests import IssueStatuses, StatusRequest
from domain.rules import Notice, at_hour, due_date, item_notices, schedule
from workflows.options import RECONCILE
from workflows.steps.approval import ApprovalGate
from workflows.steps.audit import AuditTrail
from workflows.steps.checklist import Checklist, TrackedItems, reconcile, remind, require_reason
from workflows.steps.lifecycle import ProcessWorkflow
from workflows.steps.outbound import Outbound
from workflows.steps.refusal import refuse
from workflows.steps.timers import sleep_until, wait_until

with workflow.unsafe.imports_passed_through():
    from activities.tracker import TrackerActivities


@workflow.defn(name="launch")
class LaunchWorkflow(ProcessWorkflow, TrackedItems):
    """One product launch, from kickoff to announcement."""

    kind = "launch"
    noun = "launch"

    @workflow.init
    def __init__(self, input: LaunchInput) -> None:
        params, template = input.params, input.template
        self.input = input
        self.begin(params.heading(), params.owner)
        self.launch_at = at_hour(params.launch_date, template.notify_hour_utc)
        self.gate_opens_at = self.launch_at - timedelta(days=template.gate.offset_days)
        self.checklist = Checklist(
            [
                ItemState(
                    key=item.key,
                    title=item.title,
                    role=item.role,
                    owner=params.owner_of(item.role),
                    due=due_date(params.launch_date, item.due_offset_days),
                )
                for item in template.items
            ]
        )
        self.gate = ApprovalGate.new(
            template.gate.key,
            template.gate.title,
            params.approvers,
            params.policy,
            owner=params.owner,
            allow_owner_approval=template.gate.allow_owner_approval,
        )
        self.audit = AuditTrail(self.summary)
        self.outbound = Outbound(
            self.id,
            self.audit,
            {
                "product": params.product,
                "launch_date": params.launch_date.isoformat(),
                "owner": params.owner,
                "about": f"the launch of {params.product} on {params.launch_date}",
            },
            owner=params.owner,
        )
        self.epic: str | None = None
        self.retrospective: str | None = None

    @workflow.run
    async def run(self, input: LaunchInput) -> ProcessView:
        """Run the launch; a cancellation at any point runs the clean-up."""
        return await self.run_body(self._launch, lambda why: self.wind_down(ProcessStatus.CANCELLED, why))

    async def _launch(self) -> None:
        await self.audit.record(
            "started", actor=self.input.requested_by, params=self.input.params.model_dump(mode="json")
        )
        await self.kickoff()
        background = [asyncio.create_task(remind(self.checklist, self.reminder_schedule(), self.send_notices))]
        every = self.input.template.tracker.reconcile_every_hours
        if every:
            background.append(
                asyncio.create_task(
                    reconcile(self.checklist, timedelta(hours=every), self.tracker_statuses, self.done_in_tracker)
                )
            )
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
        epic = await self.outbound.create_issue(
            "epic",
            "kickoff",
            project=params.jira_project,
            issue_type=tracker.epic_type,
            summary=self.title,
            description=self.input.template.description,
            assignee=params.owner,
            due=params.launch_date,
        )
        self.epic = epic.key if epic else None
        # One at a time, in checklist order: keys then read in order in the
        # tracker, and Jira's rate limit is not hit by a burst.
        for item, spec in zip(self.checklist.items.values(), self.input.template.items, strict=True):
            ref = await self.outbound.create_issue(
                f"item:{item.key}",
                "kickoff",
                project=params.jira_project,
                issue_type=tracker.item_type,
                summary=f"{item.title} — {params.product}",
                description=spec.description,
                assignee=item.owner,
                due=item.due,
                parent=self.epic,
            )
            item.issue_key = ref.key if ref else None
        await self.outbound.chat(
            "kickoff",
            "kickoff_chat",
            params.channel,
            "kickoff",
            items=self._items(self.checklist.items.values()),
            epic_key=self.epic or "the tracker",
            gate_opens=f"{self.gate_opens_at:%Y-%m-%d}",
        )
        by_owner = groupby(sorted(self.checklist.items.values(), key=lambda i: i.owner), key=lambda i: i.owner)
        await asyncio.gather(
            *(
                self.outbound.email(f"kickoff:{owner}", "kickoff_owner", [owner], "kickoff", items=self._items(items))
                for owner, items in by_owner
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

    async def send_notices(self, notices: list[Notice]) -> None:
        """Remind owners of their items, and tell the process owner of escalations."""
        at = notices[0].at
        for kind, group in groupby(sorted(notices, key=lambda n: n.kind), key=lambda n: n.kind):
            items = [self.checklist.items[n.item] for n in group]
            if kind == "escalation":
                days_late = (at.date() - min(i.due for i in items)).days
                await self.outbound.email(
                    f"escalation:{at:%Y%m%d}",
                    "escalation",
                    [self.input.params.owner],
                    "checklist",
                    items=self._items(items),
                    days_late=days_late,
                )
                await self.audit.record("escalation", step="checklist", items=[i.key for i in items])
                continue
            for owner, owned in groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner):
                mine = list(owned)
                await self.outbound.email(
                    f"{kind}:{at:%Y%m%d}:{owner}", kind, [owner], "checklist", items=self._items(mine)
                )
                await self.audit.record("reminder", step="checklist", kind=kind, to=owner, items=[i.key for i in mine])

    @workflow.update
    async def mark_item_done(self, input: ItemDoneInput) -> ItemState:
        """Mark a checklist item done (from the API or the CLI)."""
        return await self.item_done(input)

    async def item_done(self, input: ItemDoneInput) -> ItemState:
        """Mark an item done once; close its issue unless the tracker told us."""
        if not self.checklist.mark_done(input.item, input.by, workflow.now(), input.resolution, input.reason):
            return self.checklist.item(input.item)
        item = self.checklist.item(input.item)
        if self.checklist.all_done and self.steps["checklist"].status == StepStatus.ACTIVE:
            self._finish_step("checklist")
        details = {"resolution": "wont_do", "reason": input.reason} if input.resolution == "wont_do" else {}
        await self.audit.record(
            "item_done", actor=input.by, channel=input.channel, step="checklist", item=item.key, **details
        )
        if item.issue_key and input.channel not in (Channel.SYSTEM, Channel.JIRA):
            await self.outbound.close_issue(
                item.issue_key, self.input.template.tracker.done_status, f"Marked done by {input.by}.", "checklist"
            )
        return item

    async def tracker_statuses(self, keys: list[str]) -> dict[str, str]:
        """Where `keys` stand in the tracker; nothing if it cannot say now (the next round asks again)."""
        try:
            answer: IssueStatuses = await workflow.execute_activity_method(
                TrackerActivities.issue_statuses, StatusRequest(process_id=self.id, keys=keys), **RECONCILE
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            return {}
        return answer.statuses

    async def done_in_tracker(self, item: ItemState) -> ItemState:
        """An item whose issue the reconciliation found done."""
        return await self.item_done(ItemDoneInput(item=item.key, by="tracker (reconciliation)", channel=Channel.JIRA))

    @mark_item_done.validator
    def _check_item_done(self, input: ItemDoneInput) -> None:
        self.checklist.item(input.item)
        if self.status.finished:
            raise refuse(Conflict(f"the process is {self.status.value}"))
        require_reason(input)

    # ---- 3. go / no-go ------------------------------------------------------

    async def go_no_go(self) -> bool:
        """Ask the approvers until the gate is approved, rejected or expires."""
        gate_template = self.input.template.gate
        expires_at = self.launch_at + timedelta(days=gate_template.hold_days)
        self._start_step("go-no-go")
        while True:
            self.gate.open(workflow.now(), expires_at)
            self.status = ProcessStatus.WAITING
            await self.open_gate()
            await self.await_decision()
            self.status = ProcessStatus.RUNNING
            outcome = self.gate.state.status
            await self.audit.record("gate_closed", step="go-no-go", outcome=outcome.value, round=self.gate.state.round)
            await self.settle_requests()
            if outcome == GateStatus.APPROVED:
                self._finish_step("go-no-go")
                return True
            if outcome == GateStatus.REJECTED and gate_template.on_reject == "reopen":
                continue
            self._finish_step("go-no-go", StepStatus.FAILED)
            reasons = [f"{d.approver}: {d.comment or d.decision.value}" for d in self.gate.rejections()]
            reason = "; ".join(reasons) if reasons else "no go / no-go decision before the gate expired"
            await self.wind_down(ProcessStatus.REJECTED, CancelInput(by="", reason=reason, channel=Channel.SYSTEM))
            return False

    async def open_gate(self) -> None:
        """Post that the gate is open and send every approver their link."""
        state = self.gate.state
        await self.audit.record("gate_opened", step="go-no-go", round=state.round, approvers=state.approvers)
        await self.outbound.chat(
            f"gate:{state.round}",
            "gate_open_chat",
            self.input.params.channel,
            "go-no-go",
            approvers=state.approvers,
            required=state.required,
        )
        await self.request_decisions(state.approvers)

    async def request_decisions(self, approvers: list[str], reminder: int = 0) -> None:
        """Email each of `approvers` their own approval link."""
        state = self.gate.state
        assert state.expires_at is not None
        open_items = self._items(self.checklist.open_items())
        await asyncio.gather(
            *(
                self.outbound.approval_request(
                    state.key,
                    state.round,
                    approver,
                    str(workflow.uuid4()),
                    state.expires_at,
                    "go-no-go",
                    reminder=reminder,
                    done=self.checklist.done_count,
                    total=len(self.checklist.items),
                    open_items=open_items,
                )
                for approver in approvers
            )
        )
        action = "approval_reminder" if reminder else "approval_requested"
        await self.audit.record(action, step="go-no-go", round=state.round, approvers=approvers)

    async def await_decision(self) -> None:
        """Wait for the gate's outcome: remind approvers, hold on launch day, expire."""
        state = self.gate.state
        assert state.opened_at is not None and state.expires_at is not None
        every = self.input.template.gate.remind_every_days
        moments: list[tuple[datetime, str]] = []
        if every:
            moment = state.opened_at + timedelta(days=every)
            while moment < self.launch_at:
                moments.append((moment, "remind"))
                moment += timedelta(days=every)
        moments += [(self.launch_at, "hold"), (state.expires_at, "expire")]
        reminders = 0
        for moment, what in moments:
            if moment <= state.opened_at and what != "expire":
                continue
            if await wait_until(lambda: self.gate.decided, moment):
                return
            if what == "remind":
                reminders += 1
                await self.request_decisions(state.waiting_on, reminder=reminders)
            elif what == "hold":
                await self.outbound.email(
                    f"hold:{state.round}",
                    "on_hold",
                    [self.input.params.owner],
                    "go-no-go",
                    waiting_on=state.waiting_on,
                    expires_at=f"{state.expires_at:%Y-%m-%d %H:%M} UTC",
                )
                await self.audit.record("launch_on_hold", step="go-no-go", waiting_on=state.waiting_on)
        self.gate.close(GateStatus.EXPIRED)

    @workflow.update
    async def decide(self, input: DecisionInput) -> GateState:
        """Record an approver's decision and tell the owner."""
        record = self.gate.record(input, workflow.now())
        state = self.gate.state
        await self.audit.record(
            "decision",
            actor=input.approver,
            channel=input.channel,
            step=state.key,
            decision=record.decision.value,
            comment=record.comment,
            round=record.round,
            token_id=record.token_id,
        )
        await self.outbound.email(
            f"decision:{state.key}:{record.round}:{record.approver}",
            "decision",
            [self.input.params.owner],
            state.key,
            approver=record.approver,
            decision=record.decision.value,
            comment=record.comment,
            gate_title=state.title,
            gate_status=state.status.value,
            approvals=self.gate.approvals,
            required=state.required,
        )
        await self.outbound.settle_approval_request(
            state.key,
            record.round,
            record.approver,
            state.key,
            decision=record.decision.value,
            via=record.channel.value,
            at=f"{record.at:%Y-%m-%d %H:%M} UTC",
            comment=record.comment,
        )
        return state

    async def settle_requests(self) -> None:
        """Take the buttons off the chat requests of approvers who did not decide in this round."""
        state = self.gate.state
        await asyncio.gather(
            *(
                self.outbound.settle_approval_request(
                    state.key,
                    state.round,
                    approver,
                    state.key,
                    decision=None,
                    gate_title=state.title,
                    gate_status=state.status.value,
                )
                for approver in state.waiting_on
            )
        )

    @decide.validator
    def _check_decision(self, input: DecisionInput) -> None:
        self.gate.validate(input)

    # ---- 4. launch day ----------------------------------------------------------

    async def launch_day(self) -> None:
        """On the launch date, announce the launch and close the epic."""
        params = self.input.params
        self._start_step("launch-day")
        await sleep_until(self.launch_at)
        await self.outbound.email("announcement", "announcement", [*params.stakeholders, params.owner], "launch-day")
        await self.outbound.chat("announcement", "announcement_chat", params.channel, "launch-day")
        if self.epic:
            await self.outbound.close_issue(
                self.epic, self.input.template.tracker.done_status, "Launched.", "launch-day"
            )
        self._finish_step("launch-day")
        if self.steps["checklist"].status == StepStatus.ACTIVE:
            # Approved at go / no-go: the checklist is accepted; open items stay visible as open.
            self._finish_step("checklist")
        await self.schedule_retrospective()
        self.status = ProcessStatus.COMPLETED
        self.outcome = "launched"
        await self.audit.record("completed", step="launch-day")

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

    async def wind_down(self, status: ProcessStatus, why: CancelInput) -> None:
        """End the launch early: tell everyone involved and close the open issues."""
        params = self.input.params
        self.status = status
        self.outcome = why.reason or status.value
        self.end_steps(status)
        gate_was_open = self.gate.state.status == GateStatus.OPEN
        self.gate.close(GateStatus.CLOSED)
        action = "cancelled" if status == ProcessStatus.CANCELLED else "rejected"
        await self.audit.record(action, actor=why.by or "signoff", channel=why.channel, reason=why.reason)
        if gate_was_open:
            await self.settle_requests()
        people = {params.owner, *params.approvers, *(i.owner for i in self.checklist.open_items())}
        outcome = "cancelled" if status == ProcessStatus.CANCELLED else "rejected at go / no-go"
        await self.outbound.email(
            action, "ended", sorted(people), action, outcome=outcome, by=why.by, reason=why.reason
        )
        await self.outbound.chat(
            action, "ended_chat", params.channel, action, outcome=outcome, by=why.by, reason=why.reason
        )
        comment = f"Launch {outcome}. {why.reason}".strip()
        done = self.input.template.tracker.done_status
        issues = [i.issue_key for i in self.checklist.open_items() if i.issue_key]
        await asyncio.gather(*(self.outbound.close_issue(key, done, comment, action) for key in issues))
        if self.epic:
            await self.outbound.close_issue(self.epic, done, comment, action)
        self.wound_down = True

    # ---- what users see ------------------------------------------------------

    @workflow.query
    def view(self) -> ProcessView:
        """The launch as the API and the dashboard show it."""
        return ProcessView(
            id=self.id,
            kind="launch",
            title=self.title,
            status=self.status,
            owner=self.input.params.owner,
            params=self.input.params.model_dump(mode="json"),
            steps=list(self.steps.values()),
            items=list(self.checklist.items.values()),
            gates=[self.gate.state],
            approvals=list(self.gate.state.decisions),
            links={"epic": self.epic or "", **({"retrospective": self.retrospective} if self.retrospective else {})},
            outcome=self.outcome,
        )

    @staticmethod
    def _items(items: object) -> list[dict[str, str]]:
        return [
            {"key": i.key, "title": i.title, "owner": i.owner, "due": i.due.isoformat(), "issue_key": i.issue_key or ""}
            for i in items  # type: ignore[attr-defined]
        ]
