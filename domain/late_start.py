"""A launch started late: less time before launch day than its checklist assumes, and what its kickoff says.

A launch template's offsets assume a lead time: its earliest item's days before launch day (six weeks' worth of
work for the default checklist starts 28 days out). A launch started with less time is compressed (`compress`):
its due dates are scaled into the days left. One whose template keeps its dates (``compress_when_late: false``)
starts with items already late (`kickoff_facts` says which, which are past their escalation, and which cannot
be reminded before they are due), and its kickoff says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from domain.rules import Notice


class MovedItem(BaseModel):
    """One item's due date before and after a compression."""

    item: str
    before: date
    after: date


class Compression(BaseModel):
    """How a launch started late was compressed: the days it had, the days its checklist assumes, each item moved."""

    days_left: int
    """Days from the start to launch day."""
    assumed_days: int
    """Days before launch day the checklist's earliest item is due."""
    items: list[MovedItem]

    def audit(self) -> dict[str, Any]:
        """The ``checklist_compressed`` event's details: the lead times and each item's due date before and after."""
        return {
            "days_left": self.days_left,
            "assumed_days": self.assumed_days,
            "items": [
                {"item": m.item, "before": m.before.isoformat(), "after": m.after.isoformat()} for m in self.items
            ],
        }


def assumed_days(offsets: Iterable[int]) -> int:
    """The lead time a checklist assumes: how many days before launch day its earliest item is due (0: none)."""
    return max((-offset for offset in offsets), default=0)


def compress(
    offsets: list[tuple[str, int]], launch_date: date, today: date, gate_offset_days: int
) -> Compression | None:
    """Each item's due date scaled into the days left, for a launch started on `today` with less time than its
    checklist assumes; None when it has enough (its earliest item is not due before `today`).

    An item `offset` days before launch day (negative) is due ``offset × days left ÷ days assumed`` days before
    it, rounded to the earlier day: the earliest item falls due today, one due on launch day stays there, and
    the order is kept. An item due no later than the go / no-go opening stays due no later than it, so the
    approvers decide on what the template meant them to see done; and nothing is due before today.

    >>> c = compress([("plan", -28), ("docs", -10), ("oncall", -3)], date(2026, 12, 15), date(2026, 12, 1), 3)
    >>> [(m.item, m.after.isoformat()) for m in c.items], c.days_left, c.assumed_days
    ([('plan', '2026-12-01'), ('docs', '2026-12-10'), ('oncall', '2026-12-12')], 14, 28)
    """
    assumed = assumed_days(offset for _, offset in offsets)
    left = max((launch_date - today).days, 0)
    if left >= assumed:
        return None
    moved = []
    for key, offset in offsets:
        scaled = offset * left // assumed  # floor: a day earlier rather than later
        if offset <= -gate_offset_days:
            scaled = min(scaled, -gate_offset_days)
        scaled = max(scaled, -left)
        moved.append(
            MovedItem(item=key, before=launch_date + timedelta(days=offset), after=launch_date + timedelta(days=scaled))
        )
    return Compression(days_left=left, assumed_days=assumed, items=moved)


class KickoffFacts(BaseModel):
    """What the kickoff of a launch tells about its items beyond their due dates."""

    late: list[str] = []
    """The items already past their due date."""
    escalate: list[str] = []
    """The items already past their escalation moment: the process owner hears of them at kickoff."""
    first_reminder: dict[str, datetime | None] = {}
    """The items that cannot be reminded before they are due (too soon, or late), each with the moment of the
    first reminder its owner will get (an overdue one), or None when none comes before launch day."""


def kickoff_facts(dues: dict[str, date], notices: Iterable[Notice], now: datetime, today: date) -> KickoffFacts:
    """Which items are late on `today`, past their escalation at `now`, or without a reminder before they are due.

    `dues` are the items' due dates; `notices` every notice the launch's schedule holds for them (its own cut-off
    at launch day included), those before `now` too: the schedule drops those, so a notice whose moment has passed
    is one the owner will not get.
    """
    facts = KickoffFacts()
    ahead: dict[str, list[Notice]] = {key: [] for key in dues}
    for notice in sorted(notices, key=lambda n: n.at):
        if notice.kind == "escalation":
            if notice.at <= now and notice.item not in facts.escalate:
                facts.escalate.append(notice.item)
        elif notice.at > now:
            ahead[notice.item].append(notice)
    for key, due in dues.items():
        if due < today:
            facts.late.append(key)
        first = ahead[key][0] if ahead[key] else None
        if first is None or first.kind != "reminder":
            facts.first_reminder[key] = first.at if first else None
    facts.escalate = [key for key in dues if key in facts.escalate]
    return facts
