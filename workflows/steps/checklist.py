"""A checklist: items with owners and due dates, done one by one; the walks that remind and reconcile it.

The updates and steps of a process with a tracked checklist are `workflows.steps.tracked`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow

from domain.errors import NotFound
from domain.rules import Notice, schedule
from domain.views import ItemState
from workflows.steps.refusal import refuse
from workflows.steps.timers import wait_until


class Checklist:
    """The items of a process and which of them are done."""

    def __init__(self, items: list[ItemState]) -> None:
        self.items = {item.key: item for item in items}

    def item(self, key: str) -> ItemState:
        """The item `key`.

        Raises:
            ApplicationError: a `NotFound` refusal (see `refuse`) when there is no such item.
        """
        try:
            return self.items[key]
        except KeyError:
            known = ", ".join(self.items)
            raise refuse(NotFound(f"no checklist item {key!r} (items: {known})")) from None

    def by_issue(self, issue_key: str) -> ItemState:
        """The item tracked by the tracker issue `issue_key`.

        Raises:
            ApplicationError: a `NotFound` refusal when no item has that issue.
        """
        for item in self.items.values():
            if item.issue_key == issue_key:
                return item
        raise refuse(NotFound(f"no checklist item is tracked by {issue_key}"))

    def mark_done(self, key: str, by: str, at: datetime, resolution: str = "done", note: str = "") -> bool:
        """Resolve `key` (done, or accepted as ``wont_do`` with a `note`); returns False if it already was."""
        item = self.item(key)
        if item.status != "open":
            return False
        item.status = "wont_do" if resolution == "wont_do" else "done"
        item.done_by, item.done_at, item.note = by, at, note
        return True

    def add(self, item: ItemState) -> None:
        """A new item (an action item filed along the way)."""
        self.items[item.key] = item

    def reopen(self, key: str) -> None:
        """Put a resolved item back to open (a draft sent back with changes requested)."""
        item = self.item(key)
        item.status, item.done_by, item.done_at, item.note = "open", None, None, ""

    def is_open(self, key: str) -> bool:
        """Whether `key` still has to be done."""
        return self.items[key].status == "open"

    @property
    def all_done(self) -> bool:
        """Whether every item is resolved (done, or accepted as won't-do)."""
        return all(item.status != "open" for item in self.items.values())

    @property
    def done_count(self) -> int:
        """How many items are done."""
        return sum(item.status == "done" for item in self.items.values())

    def open_items(self) -> list[ItemState]:
        """The items still to do, in checklist order."""
        return [item for item in self.items.values() if item.status == "open"]


async def remind(
    checklist: Checklist,
    schedule: list[list[Notice]],
    send: Callable[[list[Notice]], Awaitable[None]],
    replan: Callable[[], list[list[Notice]]] | None = None,
    plan: Callable[[], int] = lambda: 0,
) -> None:
    """Walk the reminder schedule, sending each batch that still concerns an open item.

    Ends early once every item is done; each wait is a durable timer raced
    against the checklist. With `replan`, a change of `plan()` (an edit moved
    the due dates) works the rest of the schedule out again from now, and once
    the schedule is walked it waits for such a change; until one comes it
    starts the timers it always did.
    """
    batches = list(schedule)
    while True:
        seen = plan()

        def moved(seen: int = seen) -> bool:
            return plan() != seen

        if not batches:
            if replan is None:
                return
            await workflow.wait_condition(lambda: checklist.all_done or moved())
        elif not await wait_until(lambda: checklist.all_done or moved(), batches[0][0].at):
            still_open = [notice for notice in batches.pop(0) if checklist.is_open(notice.item)]
            if still_open:
                await send(still_open)
            continue
        if checklist.all_done:
            return
        if replan is not None and moved():
            batches = replan()


async def reconcile(
    checklist: Checklist,
    every: timedelta,
    fetch: Callable[[list[str]], Awaitable[dict[str, str]]],
    mark_done: Callable[[ItemState], Awaitable[object]],
    tracked: Callable[[ItemState], bool] = lambda item: True,
    forever: bool = False,
) -> None:
    """Every `every`, ask the tracker where open `tracked` items' issues stand; an issue in
    the *done* category marks its item done. The fallback for a webhook that never came.

    Ends once every item is done, unless `forever` (items come and go: it runs until cancelled).
    """
    while True:
        if forever:
            await workflow.sleep(every)
        elif await wait_until(lambda: checklist.all_done, workflow.now() + every):
            return
        open_issues = {item.issue_key: item for item in checklist.open_items() if item.issue_key and tracked(item)}
        if not open_issues:
            continue
        for key, category in (await fetch(list(open_issues))).items():
            item = open_issues.get(key)
            if category == "done" and item and checklist.is_open(item.key):
                await mark_done(item)


async def chase(
    checklist: Checklist,
    notices: Callable[[], list[Notice]],
    send: Callable[[list[Notice]], Awaitable[None]],
    changed: Callable[[], int],
) -> None:
    """Remind about a checklist whose items come and go (action items filed along the way).

    `notices` gives every notice of the open items; `changed` is a counter
    the process bumps when an item is added, resolved or reopened, which
    makes the schedule be worked out again. Runs until cancelled.
    """
    while True:
        seen = changed()

        def moved(seen: int = seen) -> bool:
            return changed() != seen

        upcoming = schedule(notices(), after=workflow.now())
        if not upcoming:
            await workflow.wait_condition(moved)
            continue
        batch = upcoming[0]
        if await wait_until(moved, batch[0].at):
            continue
        still_open = [notice for notice in batch if checklist.is_open(notice.item)]
        if still_open:
            await send(still_open)
