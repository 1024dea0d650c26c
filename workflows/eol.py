"""An end-of-life: retire a product over months without surprising anyone.

`run` tells the story: kickoff (internal tasks, teams told first), the
customer notice (a `comms` child: reviewed, approved, sent on the announce
date), then in date order the end of sale, the end of support and the
customer reminders, the last "pull the plug" approval, the shutdown tasks,
and the data-retention milestone. Every wait is a durable timer; those on a
later milestone plan again when an edit moves it (`workflows.eol_edits`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby

from temporalio import workflow

from domain.comms import Preapproval
from domain.edits import EditInput
from domain.enums import ProcessStatus, StepStatus
from domain.eol import EolInput
from domain.rules import Notice, at_hour, item_notices
from domain.templates import EolTask
from domain.updates import CancelInput
from domain.views import ApprovalRecord, Content, ItemState, PlannedMoment, ProcessView
from workflows.eol_notices import Child, CustomerNotices, notice_ended
from workflows.steps.approval import ApprovalGate
from workflows.steps.checklist import chase
from workflows.steps.gate import Email
from workflows.steps.timers import sleep_until, wait_until, wait_until_planned
from workflows.steps.tracked import item_lines

SHUTDOWN_STEP_HONEST = "eol-shutdown-step-honest"
"""The patch that keeps the shutdown step in progress until its shutdown tasks are resolved (it was done as soon as
they were filed, while the service was still to be turned off). Called when the shutdown's tasks are filed."""
GATE_ROUNDS_FOLLOW_THE_PLAN = "eol-gate-rounds-follow-the-plan"
"""The patch that runs the last approval's rounds as a launch's go / no-go (`GatedProcess.decide_gate`): a round
after the first expires as the plan stands then, and ``on_reject: reopen`` asks again. Called only where a rejection
may be followed by another round (the owner asked again; ``reopen``)."""


@workflow.defn(name="eol")
class EolWorkflow(CustomerNotices):
    """One product's end of life, from the first internal task to the deletion of its data."""

    kind = "eol"
    noun = "end of life"
    input: EolInput
    gate_step = "pull-the-plug"
    request_template = "eol_approval"
    checklist_step = "tasks"
    items_come_and_go = True
    items_editable = True
    drift = frozenset(
        {"silent-gate", "unaudited-requests", "unsettled-requests", "no-decision-email", "notices-in-one",
         "unreconciled"}
    )  # fmt: skip

    @workflow.init
    def __init__(self, input: EolInput) -> None:
        params, template = input.params, input.template
        self.input = input
        gate = ApprovalGate.new(template.gate, params.approvers, params.policy, owner=params.owner)
        facts = {k: v for k, v in params.facts().items() if k != "days_left"}
        context = {"owner": params.owner, "about": f"the end of life of {params.product}"} | facts
        self.begin(params.heading(), params.owner, gate, context)
        self.begin_checklist([self.task(t) for t in template.tasks])
        self.notice: Content | None = None
        self.notice_process: str | None = None
        """The notice that was sent (the first, or the owner's re-run of it); its reminders carry its approval."""
        self.notice_approvers: list[str] = []
        self.children: list[str] = []
        self.notices_ended: set[str] = set()
        self.notices_preapproved: set[str] = set()
        self.watching: list[asyncio.Task[None]] = []
        self.approvers_edit: EditInput | None = None

    def moment(self, key: str, offset_days: int = 0) -> datetime:
        """When a milestone (``announce``, ``end_of_sale``, ``end_of_support``, ``shutdown``) falls, plus days."""
        params = self.input.params
        day = {
            "announce": params.announce_date,
            "end_of_sale": params.end_of_sale,
            "end_of_support": params.end_of_support,
            "shutdown": params.shutdown_date,
        }[key]
        return at_hour(day + timedelta(days=offset_days), self.input.template.notify_hour_utc, params.time_zone)

    def planned(self) -> int:
        """How many times an edit moved a milestone (the waits on one plan again when it changes)."""
        return self.plan_changes

    def moved_since(self, seen: int) -> bool:
        """Whether an edit moved a milestone since the plan was `seen`."""
        return self.plan_changes != seen

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
        return await self.run_body(self._eol)

    async def _eol(self) -> None:
        await self.record_started()
        await self.kickoff()
        background = self.track(chase(self.checklist, self.notices, self.send_notices, lambda: self.changes))
        try:
            if not await self.customer_notice():
                return
            await self.milestones_and_reminders()
            if not await self.pull_the_plug():
                return
            await self.shutdown()
            await self.data_retention()
        finally:
            for task in background:
                task.cancel()

    # ---- 1. kickoff: the teams first -------------------------------------------

    async def kickoff(self) -> None:
        """An epic and one issue per task; each owner emailed their tasks; the channel told."""
        params, tracker = self.input.params, self.input.template.tracker
        self._start_step("kickoff")
        await self.open_main_issue("epic", "kickoff", tracker.epic_type, params.owner, params.shutdown_date)
        await self.file_tasks(list(self.checklist.items.values()), self.input.template.tasks, "kickoff")
        await self.outbound.chat(
            "kickoff", "eol_kickoff_chat", params.channel, "kickoff", tasks=len(self.checklist.items)
        )
        self._finish_step("kickoff")

    async def file_tasks(self, items: list[ItemState], specs: list[EolTask], step: str) -> None:
        """An issue per task, and each owner emailed theirs."""
        await self.file_issues(items, [spec.description for spec in specs], "task", step)
        by_owner = groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner)
        await asyncio.gather(
            *(
                self.outbound.email(f"{step}:{owner}", "eol_tasks", [owner], step, items=item_lines(owned))
                for owner, owned in by_owner
            )
        )

    # ---- 2. the customer notice: workflows/eol_notices.py (CustomerNotices) -----------

    # ---- 3. milestones and reminders, in date order --------------------------------

    async def milestones_and_reminders(self) -> None:
        """End of sale, end of support and the customer reminders, each on its day; the reminders' sends awaited."""
        events = self.milestone_events()
        sent: list[Child] = []
        done: set[tuple[str, int]] = set()
        while ahead := [e for e in events if e[1:] not in done]:
            at, what, days = ahead[0]
            seen = self.plan_changes
            if not await wait_until(partial(self.moved_since, seen), at):
                done.add((what, days))
                if what == "reminder":
                    sent += [child] if (child := await self.reminder(days)) else []
                else:
                    await self.milestone(what)
            if self.plan_changes != seen:  # a milestone moved: what is not done yet follows it
                events = self.milestone_events()
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

    def milestone_events(self) -> list[tuple[datetime, str, int]]:
        """End of sale, end of support and each customer reminder's start (its review's lead before it goes out),
        in time order; worked out at the start and again when an edit moves a milestone."""
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
        return sorted(events)

    async def withdraw_late_reminders(self, sent: list[Child]) -> None:
        """Reminders still unsent (in review) when the last approval opens are withdrawn: the shutdown does
        not wait on them, and a reminder after it would be wrong. (Unpatched, a slow review held the gate.)"""
        settled = [asyncio.create_task(notice_ended(child)) for child in sent]
        if await wait_until_planned(lambda: all(task.done() for task in settled), self.plug_opens, self.planned):
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

    async def reminder(self, days: int) -> Child | None:
        """A customer reminder `days` before the shutdown: the approved notice again, or new text reviewed again
        (always, once the owner skipped the notice; none without text to review)."""
        reminders, params = self.input.template.notice_reminders, self.input.params
        goes_out = self.moment("shutdown", -days)
        if self.notice is None and reminders.text is None:  # the owner skipped the notice: nothing to remind of
            await self.audit.record("reminder_skipped", step="reminders", days_before=days, reason="no notice sent")
            return None
        if self.notice is not None and (reminders.approval == "preapproved" or reminders.text is None):
            assert self.notice_process is not None, "set with the notice (`customer_notice`)"
            approval = Preapproval(
                content_hash=self.notice.content_hash, process=self.notice_process,
                approvers=self.notice_approvers,
            )  # fmt: skip
            return await self.start_notice(
                f"reminder {days}", self.notice.subject, self.notice.body, goes_out, preapproved=approval
            )
        assert reminders.text is not None  # (without text, both ways above returned)
        subject, body = reminders.text.filled(**params.facts(days_left=days))
        return await self.start_notice(f"reminder {days}", subject, body, goes_out)

    # ---- 4. the last approval, the shutdown, the data -----------------------------

    async def pull_the_plug(self) -> bool:
        """The approvers' last word before the shutdown tasks; False (the end, rejected) if they say no."""
        rules = self.input.template.gate
        await wait_until_planned(lambda: False, self.plug_opens, self.planned)
        self._start_step("pull-the-plug")
        return await self.decide_gate(
            rules,
            expiry=lambda: self.moment("shutdown", rules.hold_days),
            remind_until=lambda: self.moment("shutdown"),
            otherwise="no decision before the shutdown went past its hold",
        )

    def rounds_follow_the_plan(self) -> bool:
        """Older processes' rounds after the first kept the first one's expiry, though an edit may have moved the
        shutdown since, and a rejection with ``on_reject: reopen`` ended them."""
        return workflow.patched(GATE_ROUNDS_FOLLOW_THE_PLAN)

    def request_context(self, approver: str) -> dict[str, object]:
        """The approvers see the tasks still open."""
        return {"open_tasks": item_lines(self.checklist.open_items())}

    def decision_email(self, record: ApprovalRecord) -> Email | None:
        """The owner hears of every decision (older processes did not tell them)."""
        if self.drifts("no-decision-email"):
            return None
        state = self.gate.state
        return Email(
            "eol_decision",
            [self.input.params.owner],
            {
                "approver": record.approver, "decision": record.decision.value, "comment": record.comment,
                "gate_title": state.title, "gate_status": state.status.value, "approvals": self.gate.approvals,
                "required": state.required,
            },
        )  # fmt: skip

    async def shutdown(self) -> None:
        """On the shutdown date: the shutdown tasks, and everyone told."""
        await wait_until_planned(lambda: False, lambda: self.moment("shutdown"), self.planned)
        params, template = self.input.params, self.input.template
        self._start_step("shutdown")
        items = [self.task(spec) for spec in template.shutdown_tasks]
        for item in items:
            self.checklist.add(item)
        self.changes += 1
        await self.file_tasks(items, template.shutdown_tasks, "shutdown")
        await self.outbound.chat("shutdown", "eol_milestone_chat", params.channel, "shutdown", milestone="shutdown")
        await self.audit.record("milestone", step="shutdown", milestone="shutdown", tasks=[i.key for i in items])
        self.shutdown_tasks = tuple(item.key for item in items)
        if any(self.checklist.is_open(key) for key in self.shutdown_tasks) and workflow.patched(SHUTDOWN_STEP_HONEST):
            return  # the step is done once its tasks are (`item_resolved`)
        self._finish_step("shutdown")

    shutdown_tasks: tuple[str, ...] = ()
    """The keys of the shutdown tasks, once they are filed."""

    def item_resolved(self, item: ItemState) -> None:
        """The shutdown step is done once its last task is resolved (done, or accepted as won't-do)."""
        tasks, step = self.shutdown_tasks, self.steps["shutdown"]
        if tasks and step.status == StepStatus.ACTIVE and not any(self.checklist.is_open(key) for key in tasks):
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
        if self.main_issue:
            await self.outbound.close_issue(
                self.main_issue, self.input.template.tracker.done_status, "Retired.", "data-retention"
            )
        await self.finish("retired", step="data-retention")

    # ---- tasks: reminders, done ----------------------------------------------------

    def notices(self) -> list[Notice]:
        template = self.input.template
        return [
            notice
            for item in self.checklist.open_items()
            for notice in item_notices(
                item.key, at_hour(item.due, template.notify_hour_utc, self.input.params.time_zone),
                **template.reminders.model_dump(),
                until=self.moment("shutdown", template.data_retention_days),
            )
        ]  # fmt: skip

    def notice_template(self, kind: str) -> str:
        return "eol_reminder"

    # ---- the end, early -------------------------------------------------------

    async def tell_ended(self, action: str, why: CancelInput) -> None:
        """The owner, the approvers and the task owners hear of it; the open issues are closed."""
        params = self.input.params
        people = sorted({params.owner, *params.approvers, *(i.owner for i in self.checklist.open_items())})
        await self.outbound.email(action, "eol_ended", people, action, outcome=action, by=why.by, reason=why.reason)
        await self.close_open_issues(f"End of life {action}. {why.reason}".strip(), action)

    # ---- what users see ------------------------------------------------------

    def plan(self) -> list[PlannedMoment]:
        """The milestones, the customer reminders, the last approval and the end of data retention."""
        template, shutdown = self.input.template, self.moment("shutdown")
        reminders = sorted(set(template.notice_reminders.days_before_shutdown), reverse=True)
        dated = [
            (self.moment("announce"), "the customers are told", "notice"),
            (self.moment("end_of_sale"), "end of sale", "end-of-sale"),
            (self.moment("end_of_support"), "end of support", "end-of-support"),
            *(
                (shutdown - timedelta(days=days), f"the customer reminder {days} days before", "reminders")
                for days in reminders
                if shutdown - timedelta(days=days) > self.moment("announce")
            ),
            (shutdown - timedelta(days=template.gate.offset_days), "the last approval opens", "pull-the-plug"),
            (shutdown, "shutdown", "shutdown"),
            (
                shutdown + timedelta(days=template.data_retention_days),
                "the customers' data is deleted",
                "data-retention",
            ),
        ]
        return [PlannedMoment(at=at, what=what, step=step) for at, what, step in dated]

    @workflow.query
    def view(self) -> ProcessView:
        """The end of life as the API and the pages show it."""
        links = {"epic": self.main_issue or ""} | {
            f"notice-{n}": child for n, child in enumerate(self.children, start=1)
        }
        return self.process_view(
            items=list(self.checklist.items.values()),
            links=links,
            content=self.notice,
        )
