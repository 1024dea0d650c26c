"""A checklist: items with owners and due dates, done one by one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from domain.models import ItemState
from domain.rules import Notice
from workflows.steps.timers import wait_until


class Checklist:
    """The items of a process and which of them are done."""

    def __init__(self, items: list[ItemState]) -> None:
        self.items = {item.key: item for item in items}

    def item(self, key: str) -> ItemState:
        """The item `key`.

        Raises:
            ApplicationError: type ``NotFound`` when there is no such item.
        """
        try:
            return self.items[key]
        except KeyError:
            known = ", ".join(self.items)
            raise ApplicationError(
                f"no checklist item {key!r} (items: {known})", type="NotFound", non_retryable=True
            ) from None

    def by_issue(self, issue_key: str) -> ItemState:
        """The item tracked by the tracker issue `issue_key`.

        Raises:
            ApplicationError: type ``NotFound`` when no item has that issue.
        """
        for item in self.items.values():
            if item.issue_key == issue_key:
                return item
        raise ApplicationError(f"no checklist item is tracked by {issue_key}", type="NotFound", non_retryable=True)

    def mark_done(self, key: str, by: str, at: datetime) -> bool:
        """Mark `key` done; returns False if it already was."""
        item = self.item(key)
        if item.status == "done":
            return False
        item.status, item.done_by, item.done_at = "done", by, at
        return True

    def is_open(self, key: str) -> bool:
        """Whether `key` still has to be done."""
        return self.items[key].status == "open"

    @property
    def all_done(self) -> bool:
        """Whether every item is done."""
        return all(item.status == "done" for item in self.items.values())

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
) -> None:
    """Walk the reminder schedule, sending each batch that still concerns an open item.

    Ends early once every item is done; each wait is a durable timer raced
    against the checklist.
    """
    for batch in schedule:
        if await wait_until(lambda: checklist.all_done, batch[0].at):
            return
        still_open = [notice for notice in batch if checklist.is_open(notice.item)]
        if still_open:
            await send(still_open)


async def reconcile(
    checklist: Checklist,
    every: timedelta,
    fetch: Callable[[list[str]], Awaitable[dict[str, str]]],
    mark_done: Callable[[ItemState], Awaitable[object]],
) -> None:
    """Every `every`, ask the tracker where open items' issues stand; an issue in
    the *done* category marks its item done. The fallback for a webhook that never came.
    """
    while not await wait_until(lambda: checklist.all_done, workflow.now() + every):
        tracked = {item.issue_key: item for item in checklist.open_items() if item.issue_key}
        if not tracked:
            continue
        for key, category in (await fetch(list(tracked))).items():
            item = tracked.get(key)
            if category == "done" and item and checklist.is_open(item.key):
                await mark_done(item)
