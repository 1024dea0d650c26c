"""An incident post-mortem (or a launch retrospective): draft, review, action items, summary.

`run` tells the story: kickoff (the post-mortem issue, the commander and
participants told), the draft until it is approved (changes requested send it
back), the action items until each is done or accepted as won't-do, and the
published summary. Reminders for the draft and every action item run beside
it, each at the cadence of its priority.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from domain.enums import Decision, GateStatus, StepStatus
from domain.errors import Conflict
from domain.postmortem import PostmortemInput, draft_due
from domain.rules import Notice, at_hour, item_notices, local_time
from domain.templates import Priority, Reminders
from domain.updates import CancelInput, ItemDoneInput
from domain.views import ApprovalRecord, ItemState, ProcessView
from domain.words import count
from workflows.postmortem_actions import DRAFT, ActionItems
from workflows.steps.approval import ApprovalGate
from workflows.steps.checklist import chase
from workflows.steps.gate import Email
from workflows.steps.refusal import refuse
from workflows.steps.timers import sleep_until

HANDED_PRIORITY: Priority = "P2"
"""The priority of the items a launch hands its retrospective (`PostmortemInput.launch_items`)."""
HORIZON = timedelta(days=365)
"""How far ahead overdue reminders are worked out (the schedule is worked out again as items change)."""


@workflow.defn(name="postmortem")
class PostmortemWorkflow(ActionItems):
    """One post-mortem, from the incident's resolution to its last action item."""

    kind = "postmortem"
    noun = "post-mortem"
    input: PostmortemInput
    gate_step = "review"
    request_template = "postmortem_review"
    gate_events = ("review_requested", "review_closed")
    checklist_step = "actions"
    items_come_and_go = True
    drift = frozenset({"unaudited-requests", "unsettled-requests"})

    @workflow.init
    def __init__(self, input: PostmortemInput) -> None:
        params, template = input.params, input.template
        self.input = input
        # The author may not approve their own draft; nor may the owner, whom the start refuses as a reviewer.
        gate = ApprovalGate.new(template.review, params.reviewers, "all", owner=params.commander)
        context = {
            "incident": params.incident,
            "incident_title": params.title,
            "severity": params.severity or "",
            "owner": params.owner,
            "commander": params.commander,
            "about": f"the post-mortem of {params.incident}",
        }
        self.begin(params.heading(), params.owner, gate, context)
        draft = ItemState(
            key=DRAFT,
            title=f"Post-mortem draft: {params.incident}",
            role="commander",
            owner=params.commander,
            due=draft_due(params, template),
        )
        self.begin_checklist([draft, *self.launch_items()])
        self.filing = 0

    @workflow.run
    async def run(self, input: PostmortemInput) -> ProcessView:
        """Run the post-mortem; a cancellation at any point runs the clean-up."""
        return await self.run_body(self._postmortem)

    async def _postmortem(self) -> None:
        params = self.input.params
        if params.starts_at and params.starts_at > workflow.now():
            await self.audit.record(
                "scheduled", actor=self.input.requested_by, channel=self.input.requested_via,
                starts_at=params.starts_at.isoformat(),
            )  # fmt: skip
            await sleep_until(params.starts_at)
        await self.record_started()
        await self.kickoff()
        if self.input.launch_items:
            await self.take_launch_items()
        background = self.track(chase(self.checklist, self.notices, self.send_notices, lambda: self.changes))
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
        await self.open_main_issue("postmortem", DRAFT, template.tracker.item_type, params.commander, draft.due)
        draft.issue_key = self.main_issue
        facts = {
            "due": draft.due.isoformat(),
            "issue_key": self.main_issue or "",
            "resolved_at": local_time(params.resolved_at, params.time_zone),
            "reviewers": params.reviewers,
        }
        await self.outbound.email(
            "kickoff", "postmortem_kickoff", [params.commander, *params.participants], DRAFT, prompts=template.prompts,
            **facts,
        )  # fmt: skip
        await self.outbound.chat("kickoff", "postmortem_kickoff_chat", params.channel, DRAFT, **facts)

    def launch_items(self) -> list[ItemState]:
        """The items a launch handed over open on launch day, as this retrospective's first action items: under
        their own issues, due the P2 days (the template's default without one) after the kickoff, chased at P2's
        cadence."""
        params, template = self.input.params, self.input.template
        spec = template.priorities.get(HANDED_PRIORITY)
        kickoff = max(params.resolved_at, params.starts_at or params.resolved_at).date()
        due = kickoff + timedelta(days=spec.due_days if spec else template.default_due_days)
        return [
            ItemState(
                key=f"action-{n}",
                title=item.title,
                role="action",
                owner=item.owner,
                due=due,
                issue_key=item.issue_key,
                priority=HANDED_PRIORITY,
            )
            for n, item in enumerate(self.input.launch_items, start=1)
        ]

    async def take_launch_items(self) -> None:
        """The launch's items are in the trail as action items it handed over; their owners hear of those still
        open. (Only a launch past its ``open-items-after-launch`` patch hands any over: no older run has them.)"""
        for handed, item in zip(self.input.launch_items, self.action_items(), strict=False):
            await self.audit.record(
                "action_item_added", step="actions", item=item.key, title=item.title, owner=item.owner,
                priority=item.priority, due=item.due.isoformat(), issue=item.issue_key, launch=self.input.parent,
                launch_item=handed.key,
            )  # fmt: skip
        still_open = [item for item in self.action_items() if item.status == "open"]
        if still_open:
            await self.tell_action_owners(still_open)

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
        expires_at = workflow.now() + timedelta(days=template.expires_after_days)
        if await self.gate_round(expires_at, template.remind_every_days) == GateStatus.APPROVED:
            self._finish_step("review")
            return True
        return False

    def request_context(self, approver: str) -> dict[str, object]:
        return {"issue_key": self.main_issue or "", "actions": len(self.action_items())}

    def on_decision(self, record: ApprovalRecord) -> None:
        """Anything but an approval sends the draft back with changes (a rejection does the same)."""
        if record.decision != Decision.APPROVE:
            self.gate.state.status = GateStatus.CHANGES_REQUESTED

    def decision_email(self, record: ApprovalRecord) -> Email:
        """The owner and the commander hear of every decision."""
        params, state = self.input.params, self.gate.state
        return Email(
            "postmortem_decision",
            sorted({params.owner, params.commander}),
            {
                "approver": record.approver,
                "decision": record.decision.value,
                "comment": record.comment,
                "gate_status": state.status.value,
                "approvals": self.gate.approvals,
                "required": state.required,
            },
        )

    async def gate_expired(self) -> None:
        """Past the expiry the owner is told once, and the review keeps waiting: a post-mortem is not
        dropped because it is slow."""
        state = self.gate.state
        assert state.expires_at is not None
        await self.outbound.email(
            f"review-stuck:{state.round}", "postmortem_escalation", [self.input.params.owner], "review",
            items=[{"title": f"Review by {who}", "owner": who, "due": f"{state.expires_at:%Y-%m-%d}"}
                   for who in state.waiting_on],
        )  # fmt: skip
        await workflow.wait_condition(lambda: self.gate.decided)

    # ---- 3. action items (taken in and filed: workflows/postmortem_actions.py) -------

    async def action_items_until_resolved(self) -> None:
        """Wait until every action item is done or accepted as won't-do."""
        self._start_step("actions")
        await workflow.wait_condition(lambda: self.checklist.all_done and not self.filing)
        self._finish_step("actions")

    def item_step(self, item: ItemState) -> str:
        return DRAFT if item.key == DRAFT else "actions"

    def item_action(self, item: ItemState) -> str:
        return "draft_done" if item.key == DRAFT else super().item_action(item)

    def tracked(self, item: ItemState) -> bool:
        """Action items only: the draft's issue stays Done after changes are requested, and
        must not hand an unchanged draft to review again."""
        return item.key != DRAFT

    def check_item(self, input: ItemDoneInput, item: ItemState) -> None:
        """The draft is done only by its author, and not while it is in review."""
        if input.item == DRAFT and input.resolution == "wont_do":
            raise refuse(Conflict("the draft cannot be accepted as won't-do: cancel the post-mortem instead"))
        if input.item == DRAFT and self.steps["review"].status == StepStatus.ACTIVE:
            raise refuse(Conflict("the draft is in review: wait for the reviewers"))

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
                at_hour(item.due, template.notify_hour_utc, self.input.params.time_zone),
                **self.reminders_of(item).model_dump(),
                until=workflow.now() + HORIZON,
            )
        ]

    def reminders_of(self, item: ItemState) -> Reminders:
        template = self.input.template
        if item.key == DRAFT or item.priority not in template.priorities:
            return template.draft_reminders
        return template.priorities[item.priority].reminders

    def notice_template(self, kind: str) -> str:
        return "postmortem_escalation" if kind == "escalation" else "postmortem_reminder"

    # ---- 4. the summary ----------------------------------------------------------

    async def publish(self) -> None:
        """Tell everyone involved what was found and what was done; close the post-mortem issue."""
        params = self.input.params
        self._start_step("published")
        actions = self.action_items()
        done, wont_do = sum(i.status == "done" for i in actions), sum(i.status == "wont_do" for i in actions)
        facts: dict[str, int | str] = {"done": done, "wont_do": wont_do, "issue_key": self.main_issue or ""}
        approvers = [d.approver for d in self.gate.state.decisions if d.round == self.gate.state.round]
        people = sorted({params.owner, params.commander, *params.participants, *params.reviewers})
        await self.outbound.email(
            "summary", "postmortem_summary", people, "published", approvers=approvers,
            actions=[i.model_dump(mode="json") for i in actions], **facts,
        )  # fmt: skip
        await self.outbound.chat("summary", "postmortem_summary_chat", params.channel, "published", **facts)
        if self.main_issue:
            await self.outbound.close_issue(
                self.main_issue, self.input.template.tracker.done_status, "Post-mortem closed.", "published"
            )
        self._finish_step("published")
        outcome = f"{count(done, 'action item')} done, {wont_do} won't do"
        await self.finish(outcome, "published", done=done, wont_do=wont_do)

    # ---- the end, early -------------------------------------------------------

    async def tell_ended(self, action: str, why: CancelInput) -> None:
        """Everyone involved hears of it; the open action items' issues and the post-mortem's are closed."""
        params = self.input.params
        people = sorted({params.owner, params.commander, *params.reviewers, *(i.owner for i in self.action_items())})
        await self.outbound.email(
            action, "postmortem_ended", people, action, outcome=action, by=why.by, reason=why.reason
        )
        if self.filing:  # an action item's issue on its way is closed with the rest (never before ACTIONS_AT_ONCE)
            await workflow.wait_condition(lambda: not self.filing)
        await self.close_open_issues(f"Post-mortem {action}. {why.reason}".strip(), action)

    # ---- what users see ------------------------------------------------------

    @workflow.query
    def view(self) -> ProcessView:
        """The post-mortem as the API and the pages show it."""
        return self.process_view(
            items=list(self.checklist.items.values()),
            links={"issue": self.main_issue or "", **({"parent": self.input.parent} if self.input.parent else {})},
        )
