"""A checklist's items as they change while a process runs: an item reassigned, added or removed, due dates moved.

`ItemEdits` is the base of `workflows.steps.tracked.TrackedChecklist`: it takes the ``owners`` part of an edit
(`workflows.steps.edits`), the ``add_items`` and ``remove_items`` parts for a kind whose items may change
(`items_editable`: a launch, an end of life; an item removed is kept as won't-do, "removed by …"), and moves
the items' due dates for a kind whose dates move (a launch). The tracker issue follows each change (its
assignee, its due date), the people it concerns are told, and what reminds reads the items as they are at each
reminder, so the new owner is the one reminded.
"""

from __future__ import annotations

from collections.abc import Collection, Coroutine, Iterable
from datetime import timedelta
from functools import partial
from itertools import groupby
from typing import Any, ClassVar

from temporalio import workflow

from domain.edits import Change, EditInput, item_key
from domain.errors import Conflict, InvalidField
from domain.requests import IssueUpdate
from domain.views import ItemState
from workflows.steps.checklist import Checklist
from workflows.steps.edits import EditableProcess, FollowUp
from workflows.steps.refusal import refuse


def item_lines(items: Iterable[ItemState]) -> list[dict[str, str]]:
    """Items as the message templates list them (`workflows.steps.tracked.item_lines`, which imports this module)."""
    from workflows.steps.tracked import item_lines as lines

    return lines(items)


class ItemEdits(EditableProcess):
    """Reassigning, adding and removing items and moving their due dates; `TrackedChecklist` tracks them."""

    checklist: Checklist
    checklist_step: ClassVar[str]
    changes: int
    items_editable: ClassVar[bool] = False
    """Whether an edit may add and remove items (a launch's checklist, an end of life's tasks)."""

    def tracked(self, item: ItemState) -> bool:
        """Whether the tracker says when `item` is done (and hears when it is done elsewhere)."""
        return True

    # ---- reassigning -----------------------------------------------------------------

    def editable(self) -> set[str]:
        """The owners of items, besides what the other mixins take."""
        return super().editable() | {"owners"} | ({"add_items", "remove_items"} if self.items_editable else set())

    def edit_changes(self, input: EditInput) -> list[Change]:
        """Each item reassigned: refused for an item that does not exist, is resolved, or is the person's already."""
        changes = super().edit_changes(input)
        for key, owner in input.owners.items():
            item = self.checklist.items.get(key)
            if item is None:
                known = ", ".join(self.checklist.items)
                raise refuse(InvalidField(f"owners.{key}", f"no item {key!r} in this {self.noun} (items: {known})"))
            if item.status != "open":
                said = "won't do" if item.status == "wont_do" else item.status
                raise refuse(Conflict(f"{item.title!r} is {said}: it no longer needs an owner"))
            if item.owner == owner:
                raise refuse(InvalidField(f"owners.{key}", f"{owner} owns {item.title!r} already"))
            sentence = f"{item.title!r} moves from {item.owner} to {owner}"
            changes.append(Change(what=f"owner:{key}", before=item.owner, after=owner, sentence=sentence))
        return [*changes, *self.items_added(input), *self.items_removed(input)]

    def apply_edit(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The new owners, now; their issues' assignees follow, and old and new owners are told."""
        follow_ups = super().apply_edit(input, tag)
        moved: list[tuple[ItemState, str]] = []
        for key, owner in input.owners.items():
            item = self.checklist.items[key]
            moved.append((item, item.owner))
            item.owner = owner
        if moved:
            follow_ups.append(partial(self.tell_reassigned, moved, tag, input))
        return [*follow_ups, *self.add_items(input, tag), *self.remove_items(input, tag)]

    async def tell_reassigned(self, moved: list[tuple[ItemState, str]], tag: str, input: EditInput) -> None:
        """Each issue assigned to its new owner; each new owner emailed their items, each old one told."""
        why = f" {input.reason}" if input.reason else ""
        for item, before in moved:
            if item.issue_key and self.tracked(item):
                comment = f"Reassigned from {before} to {item.owner} by {input.by}.{why}"
                update = IssueUpdate(process_id="", issue_key=item.issue_key, assignee=item.owner, comment=comment,
                                     marker=f"{tag}:{item.key}")  # fmt: skip
                await self.outbound.update_issue(update, self.checklist_step)
        for owner, group in groupby(sorted(moved, key=lambda m: m[0].owner), key=lambda m: m[0].owner):
            items = [item for item, _ in group]
            said = [f"{item.title!r} is now yours (it was {before}'s)" for item, before in moved if item in items]
            await self.outbound.email(
                f"{tag}:owner:{owner}", "changed", [owner], self.checklist_step, by=input.by, reason=input.reason,
                changes=said, items=item_lines(items),
            )  # fmt: skip
        for before, group in groupby(sorted(moved, key=lambda m: m[1]), key=lambda m: m[1]):
            said = [f"{item.title!r} is now {item.owner}'s: nothing more is needed from you" for item, _ in group]
            await self.outbound.email(
                f"{tag}:former:{before}", "changed", [before], self.checklist_step, by=input.by, reason=input.reason,
                changes=said, items=[],
            )  # fmt: skip

    # ---- moving due dates ---------------------------------------------------------------

    def move_items(self, days: int, tag: str, input: EditInput, keep: Collection[str] = ()) -> FollowUp:
        """Every item but those to `keep` where they are due `days` later (earlier, if negative), now; the open
        items' issues follow, and their owners hear of their new dates. Returns the follow-up."""
        for item in self.checklist.items.values():
            if item.key not in keep:
                item.due += timedelta(days=days)
        moved = [item for item in self.checklist.open_items() if item.key not in keep]
        return partial(self.tell_moved, moved, tag, input)

    async def tell_moved(self, items: list[ItemState], tag: str, input: EditInput) -> None:
        """The open items' issues get their new due dates; each owner is emailed their items' new dates."""
        why = f" {input.reason}" if input.reason else ""
        for item in items:
            if item.issue_key and self.tracked(item):
                update = IssueUpdate(process_id="", issue_key=item.issue_key, due=item.due, marker=f"{tag}:{item.key}",
                                     comment=f"Due {item.due}: moved by {input.by}.{why}")  # fmt: skip
                await self.outbound.update_issue(update, self.checklist_step)
        for owner, group in groupby(sorted(items, key=lambda i: i.owner), key=lambda i: i.owner):
            mine = list(group)
            said = "your items are due on new dates" if len(mine) != 1 else "your item is due on a new date"
            await self.outbound.email(
                f"{tag}:dates:{owner}", "changed", [owner], self.checklist_step, by=input.by, reason=input.reason,
                changes=[said], items=item_lines(mine),
            )  # fmt: skip

    # ---- adding and removing items ------------------------------------------------------

    def can_add_items(self) -> None:
        """Refuse adding items once the checklist no longer takes any (a kind says when)."""

    def new_items(self, input: EditInput) -> list[ItemState]:
        """The items `input` adds, keyed apart from the checklist's and from each other."""
        taken, items = set(self.checklist.items), []
        for spec in input.add_items:
            key = item_key(spec.title, taken)
            taken.add(key)
            items.append(ItemState(key=key, title=spec.title, role="added", owner=spec.owner, due=spec.due))
        return items

    def items_added(self, input: EditInput) -> list[Change]:
        """Each item added: refused due in the past, or once the checklist takes no more."""
        if not input.add_items:
            return []
        self.can_add_items()
        today = workflow.now().date()
        for n, spec in enumerate(input.add_items):
            if spec.due < today:
                raise refuse(InvalidField(f"add_items.{n}.due", f"{spec.due} is in the past (today is {today})"))
        return [
            Change(what=f"added:{item.key}", before=None, after={"title": item.title, "owner": item.owner,
                   "due": item.due.isoformat()}, sentence=f"{item.title!r} is added, {item.owner}'s, due {item.due}")
            for item in self.new_items(input)
        ]  # fmt: skip

    def items_removed(self, input: EditInput) -> list[Change]:
        """Each item removed: refused for an item that does not exist or is resolved already."""
        changes = []
        for key in dict.fromkeys(input.remove_items):
            item = self.checklist.items.get(key)
            if item is None:
                known = ", ".join(self.checklist.items)
                raise refuse(InvalidField("remove_items", f"no item {key!r} in this {self.noun} (items: {known})"))
            if item.status != "open":
                said = "won't do" if item.status == "wont_do" else item.status
                raise refuse(Conflict(f"{item.title!r} is {said} already: it can no longer be removed"))
            if key in input.owners:
                raise refuse(InvalidField("remove_items", f"{item.title!r} cannot be both reassigned and removed"))
            sentence = f"{item.title!r} ({item.owner}'s) is removed: kept as won't do"
            changes.append(Change(what=f"removed:{key}", before="open", after="wont_do", sentence=sentence))
        return changes

    def add_items(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The new items join the checklist now (the reminders plan again); their issues are filed and their
        owners told beside the story."""
        added = self.new_items(input)
        if not added:
            return []
        for item in added:
            self.checklist.add(item)
        self.changes += 1
        self.plan_changes += 1
        return [partial(self.tell_added, added, tag, input)]

    async def tell_added(self, added: list[ItemState], tag: str, input: EditInput) -> None:
        """Each new item's issue filed beside the others; each owner emailed their new items."""
        params, tracker = self.input.params, self.input.template.tracker
        why = f" {input.reason}" if input.reason else ""
        for item in added:
            if self.tracked(item):
                await self.file_issue(
                    item, f"{tag}:item:{item.key}", self.checklist_step, issue_type=tracker.item_type,
                    summary=f"{item.title} — {params.product}",
                    description=f"Added by {input.by}.{why}",
                )  # fmt: skip
        for owner, group in groupby(sorted(added, key=lambda i: i.owner), key=lambda i: i.owner):
            mine = list(group)
            await self.outbound.email(
                f"{tag}:added:{owner}", "changed", [owner], self.checklist_step, by=input.by, reason=input.reason,
                changes=[f"{item.title!r} is added to the checklist: it is yours" for item in mine],
                items=item_lines(mine),
            )  # fmt: skip

    def remove_items(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The removed items are won't-do now ("removed by …"), so the counts stay honest; the trail, their issues
        closed as won't-do and their owners told follow."""
        removed = []
        for key in dict.fromkeys(input.remove_items):
            note = f"removed by {input.by}: {input.reason}" if input.reason else f"removed by {input.by}"
            if self.checklist.mark_done(key, input.by, workflow.now(), "wont_do", note):
                item = self.checklist.items[key]
                self.item_resolved(item)
                removed.append(item)
        if not removed:
            return []
        self.changes += 1
        return [partial(self.tell_removed, removed, tag, input)]

    async def tell_removed(self, removed: list[ItemState], tag: str, input: EditInput) -> None:
        """The trail's won't-do, each issue closed as won't-do, each owner told."""
        for item in removed:
            await self.audit.record(
                "item_wont_do", actor=input.by, channel=input.channel, step=self.item_step(item), item=item.key,
                resolution="wont_do", reason=item.note,
            )  # fmt: skip
            if item.issue_key and self.tracked(item):
                await self.close_item_issue(item)
        for owner, group in groupby(sorted(removed, key=lambda i: i.owner), key=lambda i: i.owner):
            said = [f"{item.title!r} is removed from the checklist: nothing more is needed from you" for item in group]
            await self.outbound.email(
                f"{tag}:removed:{owner}", "changed", [owner], self.checklist_step, by=input.by, reason=input.reason,
                changes=said, items=[],
            )  # fmt: skip

    # ---- the hooks `TrackedChecklist` gives -------------------------------------------------

    def item_step(self, item: ItemState) -> str:
        """The step an item belongs to, for the trail."""
        return self.checklist_step

    def item_resolved(self, item: ItemState) -> None:
        """What else the resolution of `item` means, at once."""

    async def file_issue(
        self, item: ItemState, marker: str, step: str, *, issue_type: str, summary: str, description: str
    ) -> None:
        """File `item`'s issue (`TrackedChecklist.file_issue`)."""
        raise NotImplementedError

    def close_item_issue(self, item: ItemState) -> Coroutine[Any, Any, None]:
        """Close the issue of the resolved `item` (`TrackedChecklist.close_item_issue`)."""
        raise NotImplementedError
