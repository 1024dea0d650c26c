"""The product launch: kickoff, checklist, go/no-go, launch day.

`run` tells the story; each step is a method below it, built from the step
primitives in `workflows.steps`.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from itertools import groupby

from temporalio import workflow

from domain.enums import StepStatus
from domain.late_start import Compression, KickoffFacts, compress, kickoff_facts
from domain.launch import LaunchInput
from domain.rules import Notice, at_hour, due_date, item_notices, local_time, schedule
from domain.updates import CancelInput
from domain.views import ApprovalRecord, ItemState, PlannedMoment, ProcessView
from domain.words import count
from workflows.launch_after import AfterLaunch
from workflows.steps.approval import ApprovalGate
from workflows.steps.checklist import remind
from workflows.steps.gate import Email, Moment
from workflows.steps.timers import sleep_until, wait_until_planned
from workflows.steps.tracked import item_lines

CHECKLIST_COMPRESSED = "checklist-compressed"
"""The patch that compresses the checklist of a launch started with less time than it assumes (the template's
``compress_when_late``): due dates scaled into the time left, the trail's ``checklist_compressed`` saying how, the
kickoff saying so. Called only by such a launch; one started before it kept the template's dates."""

LATE_ESCALATED_AT_KICKOFF = "late-escalated-at-kickoff"
"""The patch that tells the owner at kickoff of the items already past their escalation (a launch started late
that keeps the template's dates): one escalation email and its ``escalation`` event. Called only by such a launch;
one started before it dropped those escalations."""

OPEN_ITEMS_AFTER_LAUNCH = "open-items-after-launch"
"""The patch for a launch that reaches launch day with items open: "launched with N open items", its checklist
step left open and the items tracked until resolved (or handed to its retrospective, as the template's
``open_items_after_launch`` says), the epic closed only then. Called only by such a launch; one started before it
ended "launched" at once, its checklist step done and the items left open, unchased."""


@workflow.defn(name="launch")
class LaunchWorkflow(AfterLaunch):
    """One product launch, from kickoff to announcement."""

    kind = "launch"
    noun = "launch"
    input: LaunchInput
    gate_step = "go-no-go"
    checklist_step = "checklist"
    items_editable = True

    @workflow.init
    def __init__(self, input: LaunchInput) -> None:
        params, template = input.params, input.template
        self.input = input
        self.launch_at = at_hour(params.launch_date, template.notify_hour_utc, params.time_zone)
        self.gate_opens_at = self.days_from_launch(-template.gate.offset_days)
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

    def days_from_launch(self, days: int) -> datetime:
        """The template's hour, in the launch's time zone, `days` from launch day (negative: before): across a
        change to or from daylight saving it stays that hour."""
        params = self.input.params
        return at_hour(params.launch_date + timedelta(days=days), self.input.template.notify_hour_utc, params.time_zone)

    @workflow.run
    async def run(self, input: LaunchInput) -> ProcessView:
        """Run the launch; a cancellation at any point runs the clean-up."""
        return await self.run_body(self._launch)

    async def _launch(self) -> None:
        await self.record_started()
        await self.kickoff()
        background = self.track(
            remind(
                self.checklist, self.reminder_schedule(), self.send_notices, replan=self.reminder_schedule,
                plan=lambda: self.plan_changes,
            )
        )  # fmt: skip
        try:
            await self.checklist_until_gate()
            if await self.go_no_go():
                await self.launch_day()
        finally:
            for task in background:
                task.cancel()

    # ---- 1. kickoff -----------------------------------------------------------

    async def kickoff(self) -> None:
        """Open an epic and one issue per item, post to the channel, email each owner. A launch started late says
        so: its due dates compressed into the time left, or its late items named (and the owner told at once of
        those past their escalation); each owner hears which items cannot be reminded before they are due."""
        params, tracker = self.input.params, self.input.template.tracker
        self._start_step("kickoff")
        compressed = await self.compress_if_late()
        await self.open_main_issue("epic", "kickoff", tracker.epic_type, params.owner, params.launch_date)
        items = list(self.checklist.items.values())
        await self.file_issues(items, [spec.description for spec in self.input.template.items], "item", "kickoff")
        facts = self.kickoff_facts()
        late_start = {"compressed": {"days_left": compressed.days_left, "assumed_days": compressed.assumed_days}
                      if compressed else None}  # fmt: skip
        await self.outbound.chat(
            "kickoff",
            "kickoff_chat",
            params.channel,
            "kickoff",
            items=item_lines(items),
            epic_key=self.main_issue or "the tracker",
            gate_opens=f"{self.gate_opens_at:%Y-%m-%d}",
            late=item_lines(i for i in items if i.key in facts.late),
            **late_start,
        )
        by_owner = groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner)
        await asyncio.gather(
            *(
                self.outbound.email(
                    f"kickoff:{owner}",
                    "kickoff_owner",
                    [owner],
                    "kickoff",
                    **self.owner_kickoff(list(owned), facts),
                    **late_start,
                )
                for owner, owned in by_owner
            )
        )
        if facts.escalate and workflow.patched(LATE_ESCALATED_AT_KICKOFF):
            await self.escalate_at_once([self.checklist.items[key] for key in facts.escalate])
        if self.input.clashes:
            await self.outbound.email(
                "kickoff:clashes", "launch_clash", [params.owner], "kickoff", clashes=self.input.clashes
            )
        self._finish_step("kickoff")

    async def compress_if_late(self) -> Compression | None:
        """A launch started with less time than its checklist assumes has its due dates scaled into the time left
        (`domain.late_start.compress`), unless its template keeps them; the trail says how."""
        template, params = self.input.template, self.input.params
        if not template.compress_when_late:
            return None
        offsets = [(spec.key, spec.due_offset_days) for spec in template.items]
        compression = compress(offsets, params.launch_date, self.today(), template.gate.offset_days)
        if compression is None or not workflow.patched(CHECKLIST_COMPRESSED):
            return None
        for moved in compression.items:
            self.checklist.items[moved.item].due = moved.after
        await self.audit.record("checklist_compressed", step="kickoff", **compression.audit())
        return compression

    def today(self) -> date:
        """Today in the launch's time zone."""
        return workflow.now().astimezone(self.input.params.zone).date()

    def kickoff_facts(self) -> KickoffFacts:
        """Which items are late, past their escalation, or too close to be reminded before they are due, now."""
        items, now = self.checklist.items.values(), workflow.now()
        notices = self.notices_until(max(self.launch_at, now + timedelta(seconds=1)))
        return kickoff_facts({item.key: item.due for item in items}, notices, now, self.today())

    def owner_kickoff(self, owned: list[ItemState], facts: KickoffFacts) -> dict[str, object]:
        """What an owner's kickoff email says of their items: each, marked when late; and those that cannot be
        reminded before they are due, with the day of their first reminder ("" when none comes before launch
        day), so the email promises only the reminders that will come."""
        zone = self.input.params.zone
        first = {key: f"{at.astimezone(zone):%Y-%m-%d}" if at else "" for key, at in facts.first_reminder.items()}
        return {
            "items": [line | {"late": line["key"] in facts.late} for line in item_lines(owned)],
            "unreminded": [
                {"title": item.title, "late": item.key in facts.late, "reminder": first[item.key]}
                for item in owned
                if item.key in first
            ],
        }

    async def escalate_at_once(self, items: list[ItemState], key: str = "kickoff", step: str = "kickoff") -> None:
        """The owner hears at once of the items already past their escalation when the launch starts (or, `key`
        an edit's, when a move earlier put them there): the schedule has no moment left for them."""
        days_late, at_kickoff = min((self.today() - item.due).days for item in items), step == "kickoff"
        await self.outbound.email(
            f"escalation:{key}", self.notice_template("escalation"), [self.input.params.owner], step,
            kind="escalation", items=item_lines(items), days_late=days_late, at_kickoff=at_kickoff,
            **({} if at_kickoff else {"moved": True}),
        )  # fmt: skip
        await self.audit.record(
            "escalation", step=step, kind="escalation", items=[i.key for i in items], at_kickoff=at_kickoff
        )

    # ---- 2. checklist ---------------------------------------------------------

    async def checklist_until_gate(self) -> None:
        """Track the items until every one is done or the gate's date comes."""
        self._start_step("checklist")
        await wait_until_planned(lambda: self.checklist.all_done, lambda: self.gate_opens_at, lambda: self.plan_changes)
        if self.checklist.all_done:
            self._finish_step("checklist")

    def reminder_schedule(self) -> list[list[Notice]]:
        """Every reminder and escalation of this launch until launch day, grouped by moment."""
        return schedule(self.notices_until(self.launch_at), after=workflow.now())

    def notices_until(self, until: datetime) -> list[Notice]:
        """Every reminder and escalation of the items (resolved ones too) before `until`, passed ones too."""
        template = self.input.template
        specs = {spec.key: spec for spec in template.items}  # an item added by an edit has the template's reminders
        return [
            notice
            for item in self.checklist.items.values()
            for notice in item_notices(
                item.key,
                at_hour(item.due, template.notify_hour_utc, self.input.params.time_zone),
                **(template.reminders_for(specs[item.key]) if item.key in specs else template.reminders).model_dump(),
                until=until,
            )
        ]

    def item_resolved(self, item: ItemState) -> None:
        """Every item done before the gate opens ends the checklist step (and opens the gate early); after
        launch day, the outcome counts the items still open."""
        if self.checklist.all_done and self.steps["checklist"].status == StepStatus.ACTIVE:
            self._finish_step("checklist")
        left = len(self.checklist.open_items())
        if self.launched and left:
            self.outcome = f"launched with {count(left, 'open item')}"

    # ---- 3. go / no-go ------------------------------------------------------

    async def go_no_go(self) -> bool:
        """Ask the approvers until the gate is approved, rejected or expires."""
        rules = self.input.template.gate
        self._start_step("go-no-go")
        return await self.decide_gate(
            rules,
            expiry=lambda: self.launch_at + timedelta(days=rules.hold_days),  # (an edit may move launch day)
            remind_until=lambda: self.launch_at,
            otherwise="no go / no-go decision before the gate expired",
        )

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
            expires_at=local_time(state.expires_at, self.input.params.time_zone) if state.expires_at else "",
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
        """On the launch date, announce the launch and close the epic. Items still open stay tracked until done,
        or go to the retrospective, as the template says (`after_launch`)."""
        params = self.input.params
        self._start_step("launch-day")
        await sleep_until(self.launch_at)
        await self.outbound.email("announcement", "announcement", [*params.stakeholders, params.owner], "launch-day")
        await self.outbound.chat("announcement", "announcement_chat", params.channel, "launch-day")
        left_open = self.checklist.open_items()
        if left_open and workflow.patched(OPEN_ITEMS_AFTER_LAUNCH):
            self._finish_step("launch-day")
            await self.after_launch(left_open)
            return
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

    # ---- the end, early -------------------------------------------------------

    async def tell_ended(self, action: str, why: CancelInput) -> None:
        """Everyone involved hears of it; the open issues and the epic are closed."""
        params = self.input.params
        people = {params.owner, *params.approvers, *(i.owner for i in self.checklist.open_items())}
        outcome = "cancelled" if action == "cancelled" else "rejected at go / no-go"
        if self.launched:  # cancelled while its open items were tracked after launch day: it did launch
            outcome = "closed after launch day"
        await self.outbound.email(
            action, "ended", sorted(people), action, outcome=outcome, by=why.by, reason=why.reason
        )
        await self.outbound.chat(
            action, "ended_chat", params.channel, action, outcome=outcome, by=why.by, reason=why.reason
        )
        await self.close_open_issues(f"Launch {outcome}. {why.reason}".strip(), action, main_done=self.launched)

    # ---- what users see ------------------------------------------------------

    def plan(self) -> list[PlannedMoment]:
        """The go / no-go opening, launch day and the retrospective."""
        template = self.input.template
        moments = [
            PlannedMoment(at=self.gate_opens_at, what="the go / no-go decision opens", step="go-no-go"),
            PlannedMoment(at=self.launch_at, what="launch day", step="launch-day"),
        ]
        if self.input.retrospective is not None and template.retrospective_after_days:
            retro_at = self.days_from_launch(template.retrospective_after_days)
            moments.append(PlannedMoment(at=retro_at, what="the retrospective starts", step="launch-day"))
        return moments

    @workflow.query
    def view(self) -> ProcessView:
        """The launch as the API and the dashboard show it."""
        return self.process_view(
            items=list(self.checklist.items.values()),
            warnings=self.input.clashes,
            links={"epic": self.main_issue or ""}
            | ({"retrospective": self.retrospective} if self.retrospective else {}),
        )
