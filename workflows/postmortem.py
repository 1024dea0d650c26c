"""An incident post-mortem (or a launch retrospective): draft, review, action items, summary.

`run` tells the story: kickoff (the post-mortem issue, the commander and
participants told), the draft until it is approved (changes requested send it
back), the action items until each is done or accepted as won't-do, and the
published summary. Reminders for the draft and every action item run beside
it, each at the cadence of its priority.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from itertools import groupby

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

from domain.enums import Channel, Decision, GateStatus, ProcessStatus, StepStatus
from domain.errors import Conflict, NotFound
from domain.models import CancelInput, DecisionInput, GateState, ItemDoneInput, ItemState, ProcessView
from domain.postmortem import ActionItemsInput, PostmortemInput, draft_due
from domain.requests import IssueStatuses, StatusRequest
from domain.rules import Notice, at_hour, item_notices
from domain.templates import Reminders
from workflows.options import RECONCILE
from workflows.steps.approval import ApprovalGate
from workflows.steps.audit import AuditTrail
from workflows.steps.checklist import Checklist, TrackedItems, chase, require_reason
from workflows.steps.lifecycle import ProcessWorkflow
from workflows.steps.outbound import Outbound
from workflows.steps.refusal import refuse
from workflows.steps.timers import sleep_until, wait_until

with workflow.unsafe.imports_passed_through():
    from activities.tracker import TrackerActivities

DRAFT = "draft"
HORIZON = timedelta(days=365)
"""How far ahead overdue reminders are worked out (the schedule is worked out again as items change)."""


@workflow.defn(name="postmortem")
class PostmortemWorkflow(ProcessWorkflow, TrackedItems):
    """One post-mortem, from the incident's resolution to its last action item."""

    kind = "postmortem"
    noun = "post-mortem"

    @workflow.init
    def __init__(self, input: PostmortemInput) -> None:
        params, template = input.params, input.template
        self.input = input
        self.begin(params.heading(), params.owner)
        draft = ItemState(
            key=DRAFT,
            title=f"Post-mortem draft: {params.incident}",
            role="commander",
            owner=params.commander,
            due=draft_due(params, template),
        )
        self.checklist = Checklist([draft])
        # The author may not approve their own draft; the incident manager (the owner) may review it.
        self.gate = ApprovalGate.new(
            template.review.key, template.review.title, params.reviewers, "all", owner=params.commander
        )
        self.audit = AuditTrail(self.summary)
        self.outbound = Outbound(
            self.id,
            self.audit,
            {
                "incident": params.incident,
                "incident_title": params.title,
                "severity": params.severity or "",
                "owner": params.owner,
                "commander": params.commander,
                "process_id": self.id,
                "about": f"the post-mortem of {params.incident}",
            },
            owner=params.owner,
        )
        self.issue: str | None = None
        self.changes = 0
        """Bumped when an item is added, resolved or reopened: the reminder schedule is worked out again."""

    @workflow.run
    async def run(self, input: PostmortemInput) -> ProcessView:
        """Run the post-mortem; a cancellation at any point runs the clean-up."""
        return await self.run_body(self._postmortem, self.wind_down)

    async def _postmortem(self) -> None:
        params = self.input.params
        if params.starts_at and params.starts_at > workflow.now():
            await self.audit.record("scheduled", actor=self.input.requested_by, starts_at=params.starts_at.isoformat())
            await sleep_until(params.starts_at)
        await self.audit.record("started", actor=self.input.requested_by, params=params.model_dump(mode="json"))
        await self.kickoff()
        background = [asyncio.create_task(chase(self.checklist, self.notices, self.send_notices, lambda: self.changes))]
        every = self.input.template.tracker.reconcile_every_hours
        if every:
            background.append(asyncio.create_task(self.reconcile(timedelta(hours=every))))
        try:
            await self.draft_until_approved()
            await self.action_items_until_resolved()
            await self.publish()
        finally:
            for task in background:
                task.cancel()

    # ---- 1. kickoff ------------------------------------------------------------

    async def kickoff(self) -> None:
        """The post-mortem issue for the commander; the commander and participants told what the draft answers."""
        params, template = self.input.params, self.input.template
        draft = self.checklist.item(DRAFT)
        ref = await self.outbound.create_issue(
            "postmortem",
            DRAFT,
            project=params.jira_project,
            issue_type=template.tracker.item_type,
            summary=self.title,
            description=template.description,
            assignee=params.commander,
            due=draft.due,
        )
        self.issue = draft.issue_key = ref.key if ref else None
        facts = {
            "due": draft.due.isoformat(),
            "issue_key": self.issue or "",
            "resolved_at": f"{params.resolved_at:%Y-%m-%d %H:%M %Z}",
            "reviewers": params.reviewers,
        }
        await self.outbound.email(
            "kickoff", "postmortem_kickoff", [params.commander, *params.participants], DRAFT, prompts=template.prompts,
            **facts,
        )  # fmt: skip
        await self.outbound.chat("kickoff", "postmortem_kickoff_chat", params.channel, DRAFT, **facts)

    # ---- 2. draft and review -----------------------------------------------------

    async def draft_until_approved(self) -> None:
        """Wait for the draft, ask the reviewers; changes requested send it back to the commander."""
        while True:
            self._start_step(DRAFT)
            await workflow.wait_condition(lambda: not self.checklist.is_open(DRAFT))
            self._finish_step(DRAFT)
            if await self.review():
                return
            self.checklist.reopen(DRAFT)
            self.changes += 1
            self.steps["review"].status = StepStatus.PENDING
            await self.audit.record("draft_reopened", step=DRAFT, round=self.gate.state.round)

    async def review(self) -> bool:
        """One review round; True if every reviewer approved."""
        template = self.input.template.review
        self._start_step("review")
        self.gate.open(workflow.now(), workflow.now() + timedelta(days=template.expires_after_days))
        self.status = ProcessStatus.WAITING
        state = self.gate.state
        await self.audit.record("review_requested", step="review", round=state.round, reviewers=state.approvers)
        await self.request_reviews(state.approvers)
        await self.await_review()
        self.status = ProcessStatus.RUNNING
        await self.audit.record("review_closed", step="review", outcome=state.status.value, round=state.round)
        if state.status == GateStatus.APPROVED:
            self._finish_step("review")
            return True
        return False

    async def request_reviews(self, reviewers: list[str], reminder: int = 0) -> None:
        state = self.gate.state
        assert state.expires_at is not None
        await asyncio.gather(
            *(
                self.outbound.approval_request(
                    state.key, state.round, reviewer, str(workflow.uuid4()), state.expires_at, "review",
                    reminder=reminder, template="postmortem_review", issue_key=self.issue or "",
                    actions=len(self.action_items()),
                )
                for reviewer in reviewers
            )
        )  # fmt: skip

    async def await_review(self) -> None:
        """Wait for the outcome, reminding silent reviewers; past the expiry the owner is told once,
        and the review keeps waiting: a post-mortem is not dropped because it is slow."""
        state = self.gate.state
        assert state.opened_at is not None and state.expires_at is not None
        every = timedelta(days=self.input.template.review.remind_every_days or 10_000)
        moment, reminders = state.opened_at + every, 0
        while moment < state.expires_at:
            if await wait_until(lambda: self.gate.decided, moment):
                return
            reminders += 1
            await self.request_reviews(state.waiting_on, reminder=reminders)
            moment += every
        if await wait_until(lambda: self.gate.decided, state.expires_at):
            return
        await self.outbound.email(
            f"review-stuck:{state.round}", "postmortem_escalation", [self.input.params.owner], "review",
            items=[{"title": f"Review by {who}", "owner": who, "due": f"{state.expires_at:%Y-%m-%d}"}
                   for who in state.waiting_on],
        )  # fmt: skip
        await workflow.wait_condition(lambda: self.gate.decided)

    @workflow.update
    async def decide(self, input: DecisionInput) -> GateState:
        """A reviewer approves the draft, or sends it back with changes (a rejection does the same)."""
        record = self.gate.record(input, workflow.now())
        state = self.gate.state
        if record.decision != Decision.APPROVE:
            state.status = GateStatus.CHANGES_REQUESTED
        await self.audit.record(
            "decision", actor=input.approver, channel=input.channel, step="review", decision=record.decision.value,
            comment=record.comment, round=record.round, token_id=record.token_id,
        )  # fmt: skip
        params = self.input.params
        await self.outbound.email(
            f"decision:{state.key}:{record.round}:{record.approver}", "postmortem_decision",
            sorted({params.owner, params.commander}), "review", approver=record.approver,
            decision=record.decision.value, comment=record.comment, gate_status=state.status.value,
            approvals=self.gate.approvals, required=state.required,
        )  # fmt: skip
        await self.outbound.settle_approval_request(
            state.key, record.round, record.approver, "review", decision=record.decision.value,
            via=record.channel.value, at=f"{record.at:%Y-%m-%d %H:%M} UTC", comment=record.comment,
        )  # fmt: skip
        return state

    @decide.validator
    def _check_decision(self, input: DecisionInput) -> None:
        self.gate.validate(input)

    # ---- 3. action items ---------------------------------------------------------

    def action_items(self) -> list[ItemState]:
        return [item for item in self.checklist.items.values() if item.key != DRAFT]

    async def action_items_until_resolved(self) -> None:
        """Wait until every action item is done or accepted as won't-do."""
        self._start_step("actions")
        await workflow.wait_condition(lambda: self.checklist.all_done)
        self._finish_step("actions")

    @workflow.update
    async def add_action_items(self, input: ActionItemsInput) -> list[ItemState]:
        """File action items as tracker issues linked to the post-mortem, each owner told of theirs."""
        params, template = self.input.params, self.input.template
        today = workflow.now().date()
        added = []
        for spec in input.items:
            item = ItemState(
                key=f"action-{len(self.action_items()) + 1}",
                title=spec.title,
                role="action",
                owner=spec.owner,
                due=spec.due or today + timedelta(days=template.priorities[spec.priority].due_days),
                priority=spec.priority,
            )
            self.checklist.add(item)
            added.append(item)
        self.changes += 1
        for item, spec in zip(added, input.items, strict=True):
            await self.audit.record(
                "action_item_added", actor=input.by, step="actions", item=item.key, title=item.title,
                owner=item.owner, priority=item.priority, due=item.due.isoformat(),
            )  # fmt: skip
            ref = await self.outbound.create_issue(
                item.key, "actions", project=params.jira_project, issue_type=template.tracker.item_type,
                summary=f"{item.title} ({params.incident})", description=spec.description, assignee=item.owner,
                due=item.due, parent=self.issue,
            )  # fmt: skip
            item.issue_key = ref.key if ref else None
        for owner, owned in groupby(sorted(added, key=lambda i: i.owner), key=lambda i: i.owner):
            mine = list(owned)
            await self.outbound.email(
                f"actions:{mine[0].key}:{owner}", "postmortem_actions", [owner], "actions", items=_items(mine)
            )
        return added

    @add_action_items.validator
    def _check_action_items(self, input: ActionItemsInput) -> None:
        if self.status.finished or self.cancel_request or self.steps["actions"].status == StepStatus.DONE:
            raise refuse(Conflict(f"the post-mortem is {self.status.value}; it takes no more action items"))
        unknown = sorted({i.priority for i in input.items} - set(self.input.template.priorities))
        if unknown:
            raise refuse(NotFound(f"this post-mortem's template has no priority {unknown[0]}"))

    @workflow.update
    async def mark_item_done(self, input: ItemDoneInput) -> ItemState:
        """The draft is ready for review, or an action item is done (or accepted as won't-do)."""
        return await self.item_done(input)

    async def item_done(self, input: ItemDoneInput) -> ItemState:
        item = self.checklist.item(input.item)
        if not self.checklist.mark_done(input.item, input.by, workflow.now(), input.resolution, input.reason):
            return item
        self.changes += 1
        action = "draft_done" if item.key == DRAFT else f"item_{item.status}"
        await self.audit.record(
            action, actor=input.by, channel=input.channel, step=DRAFT if item.key == DRAFT else "actions",
            item=item.key, reason=input.reason,
        )  # fmt: skip
        if item.key != DRAFT and item.issue_key and input.channel not in (Channel.SYSTEM, Channel.JIRA):
            comment = f"Marked {item.status.replace('_', ' ')} by {input.by}. {input.reason}".strip()
            await self.outbound.close_issue(item.issue_key, self.input.template.tracker.done_status, comment, "actions")
        return item

    @mark_item_done.validator
    def _check_item_done(self, input: ItemDoneInput) -> None:
        item = self.checklist.item(input.item)
        if self.status.finished:
            raise refuse(Conflict(f"the post-mortem is {self.status.value}"))
        if input.item == DRAFT and input.resolution == "wont_do":
            raise refuse(Conflict("the draft cannot be accepted as won't-do: cancel the post-mortem instead"))
        if input.item == DRAFT and self.steps["review"].status == StepStatus.ACTIVE:
            raise refuse(Conflict("the draft is in review: wait for the reviewers"))
        require_reason(input, repr(item.title))

    # ---- reminders and reconciliation ------------------------------------------

    def notices(self) -> list[Notice]:
        """Every reminder and escalation of the open draft and action items, worked out now."""
        template = self.input.template
        return [
            notice
            for item in self.checklist.open_items()
            if not (item.key == DRAFT and self.steps["review"].status == StepStatus.ACTIVE)
            for notice in item_notices(
                item.key,
                at_hour(item.due, template.notify_hour_utc),
                **self.reminders_of(item).model_dump(),
                until=workflow.now() + HORIZON,
            )
        ]

    def reminders_of(self, item: ItemState) -> Reminders:
        template = self.input.template
        if item.key == DRAFT or item.priority not in template.priorities:
            return template.draft_reminders
        return template.priorities[item.priority].reminders

    async def send_notices(self, notices: list[Notice]) -> None:
        """Remind owners of their items; tell the process owner of escalations."""
        at = notices[0].at
        for kind, group in groupby(sorted(notices, key=lambda n: n.kind), key=lambda n: n.kind):
            items = [self.checklist.items[n.item] for n in group]
            if kind == "escalation":
                await self.outbound.email(
                    f"escalation:{at:%Y%m%d}", "postmortem_escalation", [self.input.params.owner], "actions",
                    items=_items(items),
                )  # fmt: skip
                await self.audit.record("escalation", step="actions", items=[i.key for i in items])
                continue
            for owner, owned in groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner):
                mine = list(owned)
                await self.outbound.email(
                    f"{kind}:{at:%Y%m%d}:{owner}", "postmortem_reminder", [owner], "actions", kind=kind,
                    items=_items(mine),
                )  # fmt: skip
                await self.audit.record("reminder", step="actions", kind=kind, to=owner, items=[i.key for i in mine])

    async def reconcile(self, every: timedelta) -> None:
        """Every `every`, ask the tracker about open items' issues: the fallback for a lost webhook."""
        while True:
            await workflow.sleep(every)
            # Action items only: the draft's issue stays Done after changes are requested, and
            # must not hand an unchanged draft to review again.
            tracked = {i.issue_key: i for i in self.checklist.open_items() if i.issue_key and i.key != DRAFT}
            if not tracked:
                continue
            try:
                answer: IssueStatuses = await workflow.execute_activity_method(
                    TrackerActivities.issue_statuses, StatusRequest(process_id=self.id, keys=list(tracked)), **RECONCILE
                )
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                continue
            for key, category in answer.statuses.items():
                item = tracked.get(key)
                if category == "done" and item and self.checklist.is_open(item.key):
                    await self.item_done(
                        ItemDoneInput(item=item.key, by="tracker (reconciliation)", channel=Channel.JIRA)
                    )

    # ---- 4. the summary ----------------------------------------------------------

    async def publish(self) -> None:
        """Tell everyone involved what was found and what was done; close the post-mortem issue."""
        params = self.input.params
        self._start_step("published")
        actions = self.action_items()
        done, wont_do = sum(i.status == "done" for i in actions), sum(i.status == "wont_do" for i in actions)
        facts: dict[str, int | str] = {"done": done, "wont_do": wont_do, "issue_key": self.issue or ""}
        approvers = [d.approver for d in self.gate.state.decisions if d.round == self.gate.state.round]
        people = sorted({params.owner, params.commander, *params.participants, *params.reviewers})
        await self.outbound.email(
            "summary", "postmortem_summary", people, "published", approvers=approvers,
            actions=[i.model_dump(mode="json") for i in actions], **facts,
        )  # fmt: skip
        await self.outbound.chat("summary", "postmortem_summary_chat", params.channel, "published", **facts)
        if self.issue:
            await self.outbound.close_issue(
                self.issue, self.input.template.tracker.done_status, "Post-mortem closed.", "published"
            )
        self._finish_step("published")
        self.status = ProcessStatus.COMPLETED
        self.outcome = f"{done} action items done, {wont_do} won't do"
        await self.audit.record("completed", step="published", done=done, wont_do=wont_do)

    # ---- the end, early -------------------------------------------------------

    async def wind_down(self, why: CancelInput) -> None:
        """Tell everyone involved and close the open issues."""
        params = self.input.params
        self.status = ProcessStatus.CANCELLED
        self.outcome = why.reason or "cancelled"
        for step in self.steps.values():
            if step.status in (StepStatus.ACTIVE, StepStatus.PENDING):
                step.status = StepStatus.SKIPPED
        self.gate.close(GateStatus.CLOSED)
        await self.audit.record("cancelled", actor=why.by or "signoff", channel=why.channel, reason=why.reason)
        people = sorted({params.owner, params.commander, *params.reviewers, *(i.owner for i in self.action_items())})
        await self.outbound.email(
            "cancelled", "postmortem_ended", people, "cancelled", outcome="cancelled", by=why.by, reason=why.reason
        )
        comment = f"Post-mortem cancelled. {why.reason}".strip()
        done = self.input.template.tracker.done_status
        issues = [i.issue_key for i in self.checklist.open_items() if i.issue_key and i.key != DRAFT]
        await asyncio.gather(*(self.outbound.close_issue(key, done, comment, "cancelled") for key in issues))
        if self.issue:
            await self.outbound.close_issue(self.issue, done, comment, "cancelled")
        self.wound_down = True

    # ---- what users see ------------------------------------------------------

    @workflow.query
    def view(self) -> ProcessView:
        """The post-mortem as the API and the pages show it."""
        return ProcessView(
            id=self.id,
            kind="postmortem",
            title=self.title,
            status=self.status,
            owner=self.input.params.owner,
            params=self.input.params.model_dump(mode="json"),
            steps=list(self.steps.values()),
            items=list(self.checklist.items.values()),
            gates=[self.gate.state],
            approvals=list(self.gate.state.decisions),
            links={"issue": self.issue or "", **({"parent": self.input.parent} if self.input.parent else {})},
            outcome=self.outcome,
        )


def _items(items: list[ItemState]) -> list[dict[str, str]]:
    return [
        {
            "key": i.key, "title": i.title, "owner": i.owner, "due": i.due.isoformat(), "issue_key": i.issue_key or "",
            "priority": i.priority or "",
        }
        for i in items
    ]  # fmt: skip
