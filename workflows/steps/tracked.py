"""A checklist tracked in the tracker, as a process runs it: issues filed, items done, owners reminded.

`TrackedChecklist` is a `workflows.base.ProcessWorkflow` with such a checklist (its items reassigned and
moved by an edit: `workflows.steps.item_edits`). It brings
the `mark_item_done` and `issue_done` updates and their validators, the
resolution of an item (the trail, and the issue closed unless the tracker
told us), the reminders and escalations as they fall due, and the
reconciliation with the tracker. A kind sets `checklist_step` and overrides
the hooks it needs: `notice_template`, `item_step`, `item_resolved`,
`check_item` and `tracked`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from datetime import date, timedelta
from itertools import groupby
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

from domain.enums import Channel, StepStatus
from domain.errors import Conflict
from domain.requests import IssueStatuses, StatusRequest
from domain.rules import Notice
from domain.updates import IssueDoneInput, ItemDoneInput, Reminded
from domain.views import ItemState
from workflows.options import RECONCILE
from workflows.steps.checklist import Checklist, reconcile
from workflows.steps.item_edits import ItemEdits
from workflows.steps.refusal import refuse

with workflow.unsafe.imports_passed_through():
    from activities.tracker import TrackerActivities

ITEMS_ANSWERED_AT_ONCE = "items-answered-at-once"
"""The patch that answers "mark this item done" once it is recorded, and closes its issue beside the story:
a tracker that is down (retried for up to a day) or a worker that died mid-call no longer holds the person's
request. A process started before it, or an item marked before it, awaited the close first."""

RESOLVED_BEFORE_FILED = "resolved-before-filed"
"""The patch that closes the issue filed for an item already resolved (marked done or won't-do while a kickoff,
or an action item's filing, was still under way): Done, or the won't-do resolution, beside the story, as the
resolution would have closed it. A process started before it filed that issue and left it open."""


def item_lines(items: Iterable[ItemState]) -> list[dict[str, str]]:
    """Items as the message templates list them."""
    return [
        {
            "key": i.key, "title": i.title, "owner": i.owner, "due": i.due.isoformat(), "issue_key": i.issue_key or "",
            "priority": i.priority or "",
        }
        for i in items
    ]  # fmt: skip


class TrackedChecklist(ItemEdits):
    """The checklist's updates and steps; the hooks below are what a kind may change."""

    checklist_step: ClassVar[str]
    """The step reminders and resolutions are recorded under (``checklist``, ``tasks``)."""
    items_come_and_go: ClassVar[bool] = False
    """Whether items are added along the way: the reconciliation then runs until the process ends."""

    checklist: Checklist
    main_issue: str | None
    """The process's own issue (a launch's epic), closed last, parent of the items' issues."""
    changes: int
    """Bumped when an item is added, resolved or reopened: a reminder walk works its schedule out again."""

    # ---- hooks -----------------------------------------------------------------

    def notice_template(self, kind: str) -> str:
        """The message of a notice of `kind` (``reminder``, ``overdue``, ``escalation``)."""
        return kind

    def item_step(self, item: ItemState) -> str:
        """The step an item belongs to, for the trail."""
        return self.checklist_step

    def item_resolved(self, item: ItemState) -> None:
        """What else the resolution of `item` means, at once."""

    def check_item(self, input: ItemDoneInput, item: ItemState) -> None:
        """Refuse what this kind does not allow on `item` (besides the common rules)."""

    def tracked(self, item: ItemState) -> bool:
        """Whether the tracker says when `item` is done (and hears when it is done elsewhere)."""
        return True

    def begin_checklist(self, items: list[ItemState]) -> None:
        """Set up the checklist of `items`, its main issue (none yet) and its change count; call in
        ``@workflow.init`` after `begin`."""
        self.checklist = Checklist(items)
        self.main_issue = None
        self.changes = 0

    # ---- filing -------------------------------------------------------------------

    async def open_main_issue(self, marker: str, step: str, issue_type: str, assignee: str, due: date) -> None:
        """The process's own issue (an epic, the post-mortem), titled as the process."""
        ref = await self.outbound.create_issue(
            marker, step, project=self.input.params.jira_project, issue_type=issue_type, summary=self.title,
            description=self.input.template.description, assignee=assignee, due=due,
        )  # fmt: skip
        self.main_issue = ref.key if ref else None

    async def file_issues(self, items: list[ItemState], descriptions: list[str], marker: str, step: str) -> None:
        """One issue per item under the main issue, one at a time, in checklist order: keys then read in
        order in the tracker, and Jira's rate limit is not hit by a burst."""
        params, tracker = self.input.params, self.input.template.tracker
        for item, description in zip(items, descriptions, strict=True):
            await self.file_issue(
                item, f"{marker}:{item.key}", step, issue_type=tracker.item_type,
                summary=f"{item.title} — {params.product}", description=description,
            )  # fmt: skip

    async def file_issue(
        self, item: ItemState, marker: str, step: str, *, issue_type: str, summary: str, description: str
    ) -> None:
        """File `item`'s issue under the main issue, once per `marker`. An item resolved while its issue was
        on its way has its issue closed beside the story, as its resolution closes it (`RESOLVED_BEFORE_FILED`)."""
        ref = await self.outbound.create_issue(
            marker, step, project=self.input.params.jira_project, issue_type=issue_type, summary=summary,
            description=description, assignee=item.owner, due=item.due, parent=self.main_issue,
        )  # fmt: skip
        item.issue_key = ref.key if ref else None
        if item.issue_key and item.status != "open" and self.tracked(item) and workflow.patched(RESOLVED_BEFORE_FILED):
            self.later(self.close_item_issue(item))

    async def close_open_issues(self, comment: str, step: str, main_done: bool = False) -> None:
        """Close the open items' issues, then the main issue, as won't-do with `comment` (the process ended
        early: the work is dropped, not done); the main issue as done if `main_done` (a launch closed after
        launch day: it did launch)."""
        done = self.input.template.tracker.done_status
        issues = [i.issue_key for i in self.checklist.open_items() if i.issue_key and self.tracked(i)]
        await asyncio.gather(
            *(self.outbound.close_issue(key, done, comment, step, resolution="wont_do") for key in issues)
        )
        if self.main_issue:
            await self.outbound.close_issue(
                self.main_issue, done, comment, step, resolution="done" if main_done else "wont_do"
            )

    # ---- done ---------------------------------------------------------------------

    @workflow.update
    async def mark_item_done(self, input: ItemDoneInput) -> ItemState:
        """Mark an item done, or accepted as won't-do with a reason (from the API, the CLI or an event)."""
        return await self.item_done(input)

    @mark_item_done.validator
    def _check_item_done(self, input: ItemDoneInput) -> None:
        item = self.checklist.item(input.item)
        if self.status.finished:
            raise refuse(Conflict(f"the {self.noun} is {self.status.value}"))
        self.check_item(input, item)
        if input.resolution == "wont_do" and not input.reason.strip():
            raise refuse(Conflict(f"say why {item.title!r} will not be done (a reason is required)"))

    @workflow.update
    async def issue_done(self, input: IssueDoneInput) -> ItemState:
        """The tracker moved an item's issue to a done status."""
        item = self.checklist.by_issue(input.issue)
        return await self.item_done(ItemDoneInput(item=item.key, by=input.by, channel=input.channel))

    @issue_done.validator
    def _check_issue_done(self, input: IssueDoneInput) -> None:
        self._check_item_done(ItemDoneInput(item=self.checklist.by_issue(input.issue).key))

    async def item_done(self, input: ItemDoneInput) -> ItemState:
        """Resolve an item once: the trail, then its issue closed unless the tracker told us."""
        item = self.checklist.item(input.item)
        if not self.checklist.mark_done(input.item, input.by, workflow.now(), input.resolution, input.reason):
            return item
        self.changes += 1
        self.item_resolved(item)
        step = self.item_step(item)
        reason = {"resolution": "wont_do", "reason": input.reason} if item.status == "wont_do" else {}
        await self.audit.record(
            self.item_action(item), actor=input.by, channel=input.channel, step=step, item=item.key, **reason
        )
        if item.issue_key and self.tracked(item) and input.channel not in (Channel.SYSTEM, Channel.JIRA):
            closing = self.close_item_issue(item)
            if workflow.patched(ITEMS_ANSWERED_AT_ONCE):
                self.later(closing)
            else:
                await closing
        return item

    def close_item_issue(self, item: ItemState) -> Coroutine[Any, Any, None]:
        """Close the issue of the resolved `item` as its resolution (Done, or won't-do), saying who and why."""
        assert item.issue_key is not None
        said = "won't do" if item.status == "wont_do" else "done"
        comment = f"Marked {said} by {item.done_by}. {item.note}".strip()
        return self.outbound.close_issue(
            item.issue_key, self.input.template.tracker.done_status, comment, self.item_step(item),
            resolution="wont_do" if item.status == "wont_do" else "done",
        )  # fmt: skip

    def item_action(self, item: ItemState) -> str:
        """How the trail names a resolution: ``item_done`` or ``item_wont_do``."""
        return f"item_{item.status}"

    # ---- reminders and escalations ----------------------------------------------

    async def send_notices(self, notices: list[Notice]) -> None:
        """Remind owners of their items (one email each); tell the process owner of escalations."""
        at, owner = notices[0].at, self.input.params.owner
        for kind, group in groupby(sorted(notices, key=lambda n: n.kind), key=lambda n: n.kind):
            items = [self.checklist.items[n.item] for n in group]
            template = self.notice_template(kind)
            if kind == "escalation":
                days_late = (at.date() - min(i.due for i in items)).days
                key = f"escalation:{at:%Y%m%d}:{owner}" if self.drifts("notices-in-one") else f"escalation:{at:%Y%m%d}"
                await self.outbound.email(
                    key, template, [owner], self.checklist_step, kind=kind, items=item_lines(items), days_late=days_late
                )
                await self.audit.record("escalation", step=self.checklist_step, kind=kind, items=[i.key for i in items])
                continue
            for to, owned in groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner):
                mine = list(owned)
                await self.outbound.email(
                    f"{kind}:{at:%Y%m%d}:{to}", template, [to], self.checklist_step, kind=kind, items=item_lines(mine)
                )
                if not self.drifts("notices-in-one"):
                    await self.audit.record(
                        "reminder", step=self.checklist_step, kind=kind, to=to, items=[i.key for i in mine]
                    )
            if self.drifts("notices-in-one"):  # one row for every owner reminded at once
                await self.audit.record("reminder", step=self.checklist_step, kind=kind, items=[i.key for i in items])

    # ---- the tracker -------------------------------------------------------------

    def track(self, reminders: Coroutine[Any, Any, None]) -> list[asyncio.Task[None]]:
        """Start the walks beside the story: `reminders`, and the reconciliation with the tracker."""
        tasks = [asyncio.create_task(reminders)]
        every = self.input.template.tracker.reconcile_every_hours
        if every and not self.drifts("unreconciled"):
            tasks.append(
                asyncio.create_task(
                    reconcile(
                        self.checklist, timedelta(hours=every), self.tracker_statuses, self.done_in_tracker,
                        tracked=self.tracked, forever=self.items_come_and_go,
                    )
                )
            )  # fmt: skip
        return tasks

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

    # ---- remind now (the update is `workflows.base.ProcessWorkflow.remind_now`) -----------

    def waiting(self) -> Reminded:
        """The owners of the open items they could mark done now (not a draft under review), once the story is
        past its kickoff (the owners hear of their items there), besides what the other mixins wait on."""
        waiting = super().waiting()
        begun = any(step.status != StepStatus.PENDING for key, step in self.steps.items() if key != "kickoff")
        owners: dict[str, list[str]] = {}
        for item in self.checklist.open_items() if begun else []:
            try:
                self.check_item(ItemDoneInput(item=item.key), item)
            except ApplicationError:  # the kind would refuse it now: it does not wait on its owner
                continue
            owners.setdefault(item.owner, []).append(item.key)
        return waiting.model_copy(update={"owners": owners}) if owners else waiting

    async def remind_waiting(self, waiting: Reminded, tag: str, by: str) -> None:
        """The owners `waiting` names get the scheduled reminders' message now about their items still open:
        one email per owner and kind (``overdue`` once past the due date, else ``reminder``), keyed by `tag`."""
        today = workflow.now().date()
        keys = [key for owned in waiting.owners.values() for key in owned if self.checklist.is_open(key)]
        items = sorted((self.checklist.items[key] for key in keys), key=lambda i: (i.due >= today, i.owner))
        for (on_time, to), group in groupby(items, key=lambda i: (i.due >= today, i.owner)):
            mine, kind = list(group), "reminder" if on_time else "overdue"
            await self.outbound.email(
                f"{tag}:{kind}:{to}", self.notice_template(kind), [to], self.checklist_step, kind=kind,
                items=item_lines(mine),
            )  # fmt: skip
            await self.audit.record(
                "reminder", step=self.checklist_step, kind=kind, to=to, items=[i.key for i in mine], asked_by=by
            )
        await super().remind_waiting(waiting, tag, by)
