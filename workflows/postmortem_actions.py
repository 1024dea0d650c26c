"""A post-mortem's action items: added by people (the `add_action_items` update), each filed as a tracker issue
linked to the post-mortem and its owner told, beside the story.

`ActionItems` is the part of `workflows.postmortem.PostmortemWorkflow` that takes them in; the post-mortem's
`run` waits until each is done or accepted as won't-do.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby

from temporalio import workflow

from domain.enums import Channel, StepStatus
from domain.errors import Conflict, NotFound
from domain.postmortem import ActionItemsInput, PostmortemInput
from domain.views import ItemState
from workflows.steps.gate import GatedProcess
from workflows.steps.refusal import refuse
from workflows.steps.tracked import TrackedChecklist, item_lines

DRAFT = "draft"
"""The checklist key of the post-mortem's draft; every other item is an action item."""

ACTIONS_AT_ONCE = "action-items-at-once"
"""The patch that answers `add_action_items` once the items are recorded and files their issues (then tells
their owners) beside the story, as `items-answered-at-once` closes an item's issue: a tracker that is down no
longer holds the person's request. A process started before it filed them inside the update, one by one."""


class ActionItems(GatedProcess, TrackedChecklist):
    """The `add_action_items` update, and filing what it adds."""

    input: PostmortemInput
    filing: int
    """How many batches of action items are being filed beside the story (`ACTIONS_AT_ONCE`)."""

    def action_items(self) -> list[ItemState]:
        return [item for item in self.checklist.items.values() if item.key != DRAFT]

    @workflow.update
    async def add_action_items(self, input: ActionItemsInput) -> list[ItemState]:
        """Add action items; each is filed as a tracker issue linked to the post-mortem, and its owner told.

        The answer comes once they are recorded, before their issues exist (`ACTIONS_AT_ONCE`): the issues
        are filed beside the story, and their keys show in the view once they are.
        """
        template = self.input.template
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
        descriptions = [spec.description for spec in input.items]
        if workflow.patched(ACTIONS_AT_ONCE):
            for item in added:
                await self.record_added(item, input.by, input.channel)
            self.filing += 1
            self.later(self.file_action_items(added, descriptions))
            return added
        for item, description in zip(added, descriptions, strict=True):  # as a process started before it did
            await self.record_added(item, input.by, input.channel)
            await self.file_action_item(item, description)
        await self.tell_action_owners(added)
        return added

    async def record_added(self, item: ItemState, by: str, channel: Channel) -> None:
        await self.audit.record(
            "action_item_added", actor=by, channel=channel, step="actions", item=item.key, title=item.title,
            owner=item.owner, priority=item.priority, due=item.due.isoformat(),
        )  # fmt: skip

    async def file_action_items(self, items: list[ItemState], descriptions: list[str]) -> None:
        """File `items`' issues one at a time, then tell each owner of theirs; a cancel meanwhile stops it
        (its clean-up closes what was filed: `tell_ended` waits for this)."""
        try:
            for item, description in zip(items, descriptions, strict=True):
                if self.ending:
                    return
                await self.file_action_item(item, description)
            if not self.ending:
                await self.tell_action_owners(items)
        finally:
            self.filing -= 1

    @property
    def ending(self) -> bool:
        """Whether the post-mortem is cancelled, or being cancelled: it files and tells nothing more."""
        return self.cancel_request is not None or self.status.finished

    async def file_action_item(self, item: ItemState, description: str) -> None:
        params = self.input.params
        await self.file_issue(
            item, item.key, "actions", issue_type=self.input.template.tracker.item_type,
            summary=f"{item.title} ({params.incident})", description=description,
        )  # fmt: skip

    async def tell_action_owners(self, items: list[ItemState]) -> None:
        """Each owner emailed their new action items, with their issues."""
        for owner, owned in groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner):
            mine = list(owned)
            await self.outbound.email(
                f"actions:{mine[0].key}:{owner}", "postmortem_actions", [owner], "actions", items=item_lines(mine)
            )

    @add_action_items.validator
    def _check_action_items(self, input: ActionItemsInput) -> None:
        if self.status.finished or self.cancel_request or self.steps["actions"].status == StepStatus.DONE:
            raise refuse(Conflict(f"the post-mortem is {self.status.value}; it takes no more action items"))
        unknown = sorted({i.priority for i in input.items} - set(self.input.template.priorities))
        if unknown:
            raise refuse(NotFound(f"this post-mortem's template has no priority {unknown[0]}"))
