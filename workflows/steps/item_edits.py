"""A checklist's items as they change while a process runs: an item reassigned, due dates moved.

`ItemEdits` is the base of `workflows.steps.tracked.TrackedChecklist`: it takes the ``owners`` part of an edit
(`workflows.steps.edits`) and moves the items' due dates for a kind whose dates move (a launch). The tracker
issue follows each change (its assignee, its due date), the people it concerns are told, and what reminds
reads the items as they are at each reminder, so the new owner is the one reminded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from itertools import groupby
from typing import ClassVar

from domain.edits import Change, EditInput
from domain.errors import Conflict, InvalidField
from domain.models import ItemState
from domain.requests import IssueUpdate
from workflows.steps.checklist import Checklist
from workflows.steps.edits import EditableProcess, FollowUp
from workflows.steps.refusal import refuse


def item_lines(items: Iterable[ItemState]) -> list[dict[str, str]]:
    """Items as the message templates list them (`workflows.steps.tracked.item_lines`, which imports this module)."""
    from workflows.steps.tracked import item_lines as lines

    return lines(items)


class ItemEdits(EditableProcess):
    """Reassigning items and moving their due dates; `TrackedChecklist` tracks them."""

    checklist: Checklist
    checklist_step: ClassVar[str]

    def tracked(self, item: ItemState) -> bool:
        """Whether the tracker says when `item` is done (and hears when it is done elsewhere)."""
        return True

    # ---- reassigning -----------------------------------------------------------------

    def editable(self) -> set[str]:
        """The owners of items, besides what the other mixins take."""
        return super().editable() | {"owners"}

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
        return changes

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
        return follow_ups

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

    def move_items(self, days: int, tag: str, input: EditInput) -> FollowUp:
        """Every item due `days` later (earlier, if negative), now; the open items' issues follow, and their owners
        hear of their new dates. Returns the follow-up."""
        for item in self.checklist.items.values():
            item.due += timedelta(days=days)
        return partial(self.tell_moved, self.checklist.open_items(), tag, input)

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
