"""An end-of-life: retire a product over months without surprising anyone.

`run` tells the story: kickoff (internal tasks, teams told first), the
customer notice (a `comms` child: reviewed, approved, sent on the announce
date), then in date order the end of sale, the end of support and the
customer reminders, the last "pull the plug" approval, the shutdown tasks,
and the data-retention milestone. Every wait is a durable timer.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from temporalio import workflow
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

from domain.comms import CommsInput, CommsParams, Preapproval, Reviewer
from domain.enums import Channel, Decision, GateStatus, ProcessStatus, StepStatus
from domain.eol import EolInput
from domain.errors import Conflict
from domain.models import (
    CancelInput,
    Content,
    DecisionInput,
    GateState,
    ItemDoneInput,
    ItemState,
    ProcessView,
)
from domain.rules import Notice, at_hour, item_notices
from domain.templates import EolTask
from workflows.steps.approval import ApprovalGate
from workflows.steps.audit import AuditTrail
from workflows.steps.checklist import Checklist, TrackedItems, chase, require_reason
from workflows.steps.lifecycle import ProcessWorkflow
from workflows.steps.outbound import Outbound
from workflows.steps.refusal import refuse
from workflows.steps.timers import sleep_until, wait_until

Child = ChildWorkflowHandle[Any, ProcessView]


@workflow.defn(name="eol")
class EolWorkflow(ProcessWorkflow, TrackedItems):
    """One product's end of life, from the first internal task to the deletion of its data."""

    kind = "eol"
    noun = "end of life"

    @workflow.init
    def __init__(self, input: EolInput) -> None:
        params, template = input.params, input.template
        self.input = input
        self.begin(params.heading(), params.owner)
        self.checklist = Checklist([self.task(t) for t in template.tasks])
        self.gate = ApprovalGate.new(
            template.gate.key, template.gate.title, params.approvers, params.policy, owner=params.owner
        )
        self.audit = AuditTrail(self.summary)
        self.outbound = Outbound(
            self.id,
            self.audit,
            {"product": params.product, "owner": params.owner, "about": f"the end of life of {params.product}"}
            | {k: v for k, v in params.facts().items() if k != "days_left"},
            owner=params.owner,
        )
        self.epic: str | None = None
        self.notice: Content | None = None
        self.notice_approvers: list[str] = []
        self.children: list[str] = []
        self.changes = 0

    def moment(self, key: str, offset_days: int = 0) -> datetime:
        """When a milestone (``announce``, ``end_of_sale``, ``end_of_support``, ``shutdown``) falls, plus days."""
        params = self.input.params
        day = {
            "announce": params.announce_date,
            "end_of_sale": params.end_of_sale,
            "end_of_support": params.end_of_support,
            "shutdown": params.shutdown_date,
        }[key]
        return at_hour(day, self.input.template.notify_hour_utc) + timedelta(days=offset_days)

    def task(self, spec: EolTask) -> ItemState:
        return ItemState(
            key=spec.key,
            title=spec.title,
            role=spec.role,
            owner=self.input.params.owner_of(spec.role),
            due=self.moment(spec.anchor, spec.offset_days).date(),
        )

    @workflow.run
    async def run(self, input: EolInput) -> ProcessView:
        """Run the end of life; a cancellation at any point runs the clean-up (and cancels its notices)."""
        return await self.run_body(self._eol, lambda why: self.wind_down(ProcessStatus.CANCELLED, why))

    async def _eol(self) -> None:
        await self.audit.record(
            "started", actor=self.input.requested_by, params=self.input.params.model_dump(mode="json")
        )
        await self.kickoff()
        chasing = asyncio.create_task(chase(self.checklist, self.notices, self.send_notices, lambda: self.changes))
        try:
            if not await self.customer_notice():
                return
            await self.milestones_and_reminders()
            if not await self.pull_the_plug():
                return
            await self.shutdown()
            await self.data_retention()
        finally:
            chasing.cancel()

    # ---- 1. kickoff: the teams first -------------------------------------------

    async def kickoff(self) -> None:
        """An epic and one issue per task; each owner emailed their tasks; the channel told."""
        params, tracker = self.input.params, self.input.template.tracker
        self._start_step("kickoff")
        epic = await self.outbound.create_issue(
            "epic", "kickoff", project=params.jira_project, issue_type=tracker.epic_type, summary=self.title,
            description=self.input.template.description, assignee=params.owner, due=params.shutdown_date,
        )  # fmt: skip
        self.epic = epic.key if epic else None
        await self.file_tasks(list(self.checklist.items.values()), self.input.template.tasks, "kickoff")
        await self.outbound.chat(
            "kickoff", "eol_kickoff_chat", params.channel, "kickoff", tasks=len(self.checklist.items)
        )
        self._finish_step("kickoff")

    async def file_tasks(self, items: list[ItemState], specs: list[EolTask], step: str) -> None:
        params, tracker = self.input.params, self.input.template.tracker
        for item, spec in zip(items, specs, strict=True):
            ref = await self.outbound.create_issue(
                f"task:{item.key}", step, project=params.jira_project, issue_type=tracker.item_type,
                summary=f"{item.title} — {params.product}", description=spec.description, assignee=item.owner,
                due=item.due, parent=self.epic,
            )  # fmt: skip
            item.issue_key = ref.key if ref else None
        by_owner = groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner)
        await asyncio.gather(
            *(
                self.outbound.email(f"{step}:{owner}", "eol_tasks", [owner], step, items=_items(list(owned)))
                for owner, owned in by_owner
            )
        )

    # ---- 2. the customer notice ----------------------------------------------------

    async def customer_notice(self) -> bool:
        """The deprecation notice: reviewed by the approvers, sent on the announce date; False if it ends unsent."""
        params = self.input.params
        self._start_step("notice")
        subject, body = self.input.template.notice.filled(**params.facts())
        child = await self.start_notice("notice", subject, body, self.moment("announce"))
        result = await self.outcome_of(child)
        if result.status != ProcessStatus.COMPLETED or result.content is None:
            self._finish_step("notice", StepStatus.FAILED)
            why = f"the customer notice ({child.id}) ended {result.status.value}: {result.outcome or ''}".strip()
            await self.wind_down(ProcessStatus.REJECTED, CancelInput(by="", reason=why, channel=Channel.SYSTEM))
            return False
        self.notice = result.content
        approved = result.content.content_hash
        self.notice_approvers = sorted(
            {a.approver for a in result.approvals if a.decision == Decision.APPROVE and a.content_hash == approved}
        )
        await self.audit.record(
            "notice_sent", step="notice", process=child.id, version=result.content.version,
            content_hash=result.content.content_hash, outcome=result.outcome,
        )  # fmt: skip
        self._finish_step("notice")
        return True

    async def start_notice(
        self, key: str, subject: str, body: str, send_at: datetime, preapproved: Preapproval | None = None
    ) -> Child:
        """A `comms` child for one customer notice, cancelled with this process."""
        params, template = self.input.params, self.input.notice
        assert template is not None, "the service loads the notice's comms template at start"
        notice = CommsParams(
            owner=params.owner,
            subject=subject,
            body=body,
            audience=params.customers,
            reviewers=[Reviewer(email=a, role="Approver") for a in params.approvers],
            policy=params.policy,
            send_at=send_at,
            template=self.input.template.notice_template,
            key=f"{self.id} {key}",
        )
        child: Child = await workflow.start_child_workflow(
            "comms",
            CommsInput(
                params=notice, template=template, requested_by="signoff", parent=self.id, preapproved=preapproved
            ),
            id=notice.id(send_at.date()),
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            result_type=ProcessView,
        )
        self.children.append(child.id)
        if self.cancel_request is not None:  # cancelled while the child started: the cancel went to it too
            raise asyncio.CancelledError
        await self.audit.record("notice_started", step="notice", process=child.id, send_at=send_at.isoformat())
        return child

    async def outcome_of(self, child: Child) -> ProcessView:
        """A notice's result. A notice ends cleanly when this process is cancelled (its cancellation is
        passed on to it), so that case goes on as this process's own cancellation — by the `cancel`
        update, or by Temporal's, which reaches this task only as a pending cancel request."""
        result = await child
        task = asyncio.current_task()
        temporal_cancel = task is not None and task.cancelling() > 0
        if self.cancel_request is not None or (temporal_cancel and workflow.patched("eol-temporal-cancel")):
            raise asyncio.CancelledError  # (unpatched, a Temporal cancel ended it `rejected`)
        return result

    # ---- 3. milestones and reminders, in date order --------------------------------

    async def milestones_and_reminders(self) -> None:
        """End of sale, end of support and the customer reminders, each on its day; the reminders' sends awaited."""
        reminders = self.input.template.notice_reminders
        events: list[tuple[datetime, str, int]] = [
            (self.moment("end_of_sale"), "end-of-sale", 0),
            (self.moment("end_of_support"), "end-of-support", 0),
        ]
        for days in sorted(set(reminders.days_before_shutdown), reverse=True):
            goes_out = self.moment("shutdown", -days)
            if goes_out > self.moment("announce"):
                lead = 0 if reminders.approval == "preapproved" else reminders.lead_days
                events.append((max(goes_out - timedelta(days=lead), workflow.now()), "reminder", days))
        sent: list[Child] = []
        for at, what, days in sorted(events):
            await sleep_until(at)
            if what == "reminder":
                sent.append(await self.reminder(days))
            else:
                await self.milestone(what)
        self._start_step("reminders")
        if sent and workflow.patched("eol-reminders-end-by-the-plug"):
            await self.withdraw_late_reminders(sent)
        results = [await self.outcome_of(child) for child in sent]
        failed = [r.id for r in results if r.status != ProcessStatus.COMPLETED]
        self._finish_step("reminders", StepStatus.FAILED if failed else StepStatus.DONE)
        if failed:
            await self.outbound.tell_owner(
                "comms", "reminders", "send every customer reminder", f"not sent: {', '.join(failed)}"
            )

    async def withdraw_late_reminders(self, sent: list[Child]) -> None:
        """Reminders still unsent (in review) when the last approval opens are withdrawn: the shutdown does
        not wait on them, and a reminder after it would be wrong. (Unpatched, a slow review held the gate.)"""
        opens_at = self.moment("shutdown", -self.input.template.gate.offset_days)
        settled = [asyncio.create_task(_settled(child)) for child in sent]
        if await wait_until(lambda: all(task.done() for task in settled), opens_at):
            return
        for child, task in zip(sent, settled, strict=True):
            if not task.done():
                await workflow.get_external_workflow_handle(child.id).cancel()
                await self.audit.record("reminder_withdrawn", step="reminders", process=child.id)

    async def milestone(self, key: str) -> None:
        """Tell the team that sells (end of sale) or supports (end of support) it, and the channel."""
        params = self.input.params
        self._start_step(key)
        role = "sales" if key == "end-of-sale" else "support"
        people = sorted({params.owner_of(role), params.owner})
        await self.outbound.email(key, "eol_milestone", people, key, milestone=key, role=role)
        await self.outbound.chat(key, "eol_milestone_chat", params.channel, key, milestone=key)
        await self.audit.record("milestone", step=key, milestone=key, told=people)
        self._finish_step(key)

    async def reminder(self, days: int) -> Child:
        """A customer reminder `days` before the shutdown: the approved notice again, or new text reviewed again."""
        reminders, params = self.input.template.notice_reminders, self.input.params
        goes_out = self.moment("shutdown", -days)
        if reminders.approval == "preapproved" or reminders.text is None:
            assert self.notice is not None
            approval = Preapproval(
                content_hash=self.notice.content_hash, process=self.children[0], approvers=self.notice_approvers
            )
            return await self.start_notice(
                f"reminder {days}", self.notice.subject, self.notice.body, goes_out, preapproved=approval
            )
        subject, body = reminders.text.filled(**params.facts(days_left=days))
        return await self.start_notice(f"reminder {days}", subject, body, goes_out)

    # ---- 4. the last approval, the shutdown, the data -----------------------------

    async def pull_the_plug(self) -> bool:
        """The approvers' last word before the shutdown tasks; False (the end, rejected) if they say no."""
        gate_template = self.input.template.gate
        opens_at = self.moment("shutdown", -gate_template.offset_days)
        expires_at = self.moment("shutdown", gate_template.hold_days)
        await sleep_until(opens_at)
        self._start_step("pull-the-plug")
        self.gate.open(workflow.now(), expires_at)
        self.status = ProcessStatus.WAITING
        state = self.gate.state
        await self.audit.record("gate_opened", step="pull-the-plug", round=state.round, approvers=state.approvers)
        await asyncio.gather(
            *(
                self.outbound.approval_request(
                    state.key, state.round, approver, str(workflow.uuid4()), expires_at, "pull-the-plug",
                    template="eol_approval", open_tasks=_items(self.checklist.open_items()),
                )
                for approver in state.approvers
            )
        )  # fmt: skip
        if not await wait_until(lambda: self.gate.decided, expires_at):
            self.gate.close(GateStatus.EXPIRED)
        self.status = ProcessStatus.RUNNING
        await self.audit.record("gate_closed", step="pull-the-plug", outcome=state.status.value)
        if state.status == GateStatus.APPROVED:
            self._finish_step("pull-the-plug")
            return True
        self._finish_step("pull-the-plug", StepStatus.FAILED)
        reasons = [f"{d.approver}: {d.comment or d.decision.value}" for d in self.gate.rejections()]
        why = "; ".join(reasons) or "no decision before the shutdown went past its hold"
        await self.wind_down(ProcessStatus.REJECTED, CancelInput(by="", reason=why, channel=Channel.SYSTEM))
        return False

    async def shutdown(self) -> None:
        """On the shutdown date: the shutdown tasks, and everyone told."""
        params, template = self.input.params, self.input.template
        await sleep_until(self.moment("shutdown"))
        self._start_step("shutdown")
        items = [self.task(spec) for spec in template.shutdown_tasks]
        for item in items:
            self.checklist.add(item)
        self.changes += 1
        await self.file_tasks(items, template.shutdown_tasks, "shutdown")
        await self.outbound.chat("shutdown", "eol_milestone_chat", params.channel, "shutdown", milestone="shutdown")
        await self.audit.record("milestone", step="shutdown", milestone="shutdown", tasks=[i.key for i in items])
        self._finish_step("shutdown")

    async def data_retention(self) -> None:
        """After the retention period: the owner reminded to delete the data; done once every task is."""
        params, days = self.input.params, self.input.template.data_retention_days
        await sleep_until(self.moment("shutdown", days))
        self._start_step("data-retention")
        await self.outbound.email(
            "data-retention", "eol_milestone", [params.owner, params.owner_of("engineering")], "data-retention",
            milestone="data-retention", role="engineering",
        )  # fmt: skip
        await self.audit.record("milestone", step="data-retention", milestone="data-retention", after_days=days)
        await workflow.wait_condition(lambda: self.checklist.all_done)
        self._finish_step("data-retention")
        if self.epic:
            await self.outbound.close_issue(
                self.epic, self.input.template.tracker.done_status, "Retired.", "data-retention"
            )
        self.status = ProcessStatus.COMPLETED
        self.outcome = "retired"
        await self.audit.record("completed", step="data-retention")

    # ---- tasks: reminders, done ----------------------------------------------------

    def notices(self) -> list[Notice]:
        template = self.input.template
        return [
            notice
            for item in self.checklist.open_items()
            for notice in item_notices(
                item.key, at_hour(item.due, template.notify_hour_utc), **template.reminders.model_dump(),
                until=self.moment("shutdown", template.data_retention_days),
            )
        ]  # fmt: skip

    async def send_notices(self, notices: list[Notice]) -> None:
        at = notices[0].at
        for kind, group in groupby(sorted(notices, key=lambda n: n.kind), key=lambda n: n.kind):
            items = [self.checklist.items[n.item] for n in group]
            to = [self.input.params.owner] if kind == "escalation" else sorted({i.owner for i in items})
            for owner in to:
                mine = items if kind == "escalation" else [i for i in items if i.owner == owner]
                await self.outbound.email(
                    f"{kind}:{at:%Y%m%d}:{owner}", "eol_reminder", [owner], "tasks", kind=kind, items=_items(mine)
                )
            await self.audit.record(kind if kind == "escalation" else "reminder", step="tasks", kind=kind,
                                    items=[i.key for i in items])  # fmt: skip

    @workflow.update
    async def mark_item_done(self, input: ItemDoneInput) -> ItemState:
        """Mark a task done (from the API or the CLI)."""
        return await self.item_done(input)

    async def item_done(self, input: ItemDoneInput) -> ItemState:
        item = self.checklist.item(input.item)
        if not self.checklist.mark_done(input.item, input.by, workflow.now(), input.resolution, input.reason):
            return item
        self.changes += 1
        await self.audit.record("item_done", actor=input.by, channel=input.channel, step="tasks", item=item.key)
        if item.issue_key and input.channel not in (Channel.SYSTEM, Channel.JIRA):
            await self.outbound.close_issue(
                item.issue_key, self.input.template.tracker.done_status, f"Marked done by {input.by}.", "tasks"
            )
        return item

    @mark_item_done.validator
    def _check_item_done(self, input: ItemDoneInput) -> None:
        self.checklist.item(input.item)
        if self.status.finished:
            raise refuse(Conflict(f"the end of life is {self.status.value}"))
        require_reason(input)

    @workflow.update
    async def decide(self, input: DecisionInput) -> GateState:
        """An approver's word on pulling the plug."""
        record = self.gate.record(input, workflow.now())
        state = self.gate.state
        await self.audit.record(
            "decision", actor=input.approver, channel=input.channel, step=state.key, decision=record.decision.value,
            comment=record.comment, round=record.round, token_id=record.token_id,
        )  # fmt: skip
        await self.outbound.settle_approval_request(
            state.key, record.round, record.approver, state.key, decision=record.decision.value,
            via=record.channel.value, at=f"{record.at:%Y-%m-%d %H:%M} UTC", comment=record.comment,
        )  # fmt: skip
        return state

    @decide.validator
    def _check_decision(self, input: DecisionInput) -> None:
        self.gate.validate(input)

    # ---- the end, early -------------------------------------------------------

    async def wind_down(self, status: ProcessStatus, why: CancelInput) -> None:
        """Tell the owner, the approvers and the task owners; close the open issues."""
        params = self.input.params
        self.status = status
        self.outcome = why.reason or status.value
        self.end_steps(status)
        self.gate.close(GateStatus.CLOSED)
        action = "cancelled" if status == ProcessStatus.CANCELLED else "rejected"
        await self.audit.record(action, actor=why.by or "signoff", channel=why.channel, reason=why.reason)
        people = sorted({params.owner, *params.approvers, *(i.owner for i in self.checklist.open_items())})
        await self.outbound.email(action, "eol_ended", people, action, outcome=action, by=why.by, reason=why.reason)
        comment = f"End of life {action}. {why.reason}".strip()
        done = self.input.template.tracker.done_status
        issues = [i.issue_key for i in self.checklist.open_items() if i.issue_key]
        await asyncio.gather(*(self.outbound.close_issue(key, done, comment, action) for key in issues))
        if self.epic:
            await self.outbound.close_issue(self.epic, done, comment, action)
        self.wound_down = True

    # ---- what users see ------------------------------------------------------

    @workflow.query
    def view(self) -> ProcessView:
        """The end of life as the API and the pages show it."""
        links = {"epic": self.epic or ""} | {f"notice-{n}": child for n, child in enumerate(self.children, start=1)}
        return ProcessView(
            id=self.id,
            kind="eol",
            title=self.title,
            status=self.status,
            owner=self.input.params.owner,
            params=self.input.params.model_dump(mode="json"),
            steps=list(self.steps.values()),
            items=list(self.checklist.items.values()),
            gates=[self.gate.state],
            approvals=list(self.gate.state.decisions),
            links=links,
            outcome=self.outcome,
            content=self.notice,
        )


def _items(items: list[ItemState]) -> list[dict[str, str]]:
    return [
        {"key": i.key, "title": i.title, "owner": i.owner, "due": i.due.isoformat(), "issue_key": i.issue_key or ""}
        for i in items
    ]


async def _settled(child: Child) -> None:
    """Wait for a notice to end, however it ends."""
    with contextlib.suppress(Exception):
        await child
