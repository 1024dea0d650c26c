"""How far ahead a date a person gives a process may lie: the horizon, one rule for starts and edits.

A process computes later moments from every date it is given — an item due a date plus its offset, the
go / no-go gate's expiry, reminders, a retrospective weeks after launch day, the data's deletion after a shutdown.
A date near the year 9999 makes those overflow Python's calendar inside the workflow, whose task then fails on
every retry: the process is wedged and its page and cancel fail with it. So a date is refused where it comes in —
a start's parameters (`api.starts.prepare_start`, a preview and a schedule's run too) and an edit
(`domain.edits.EditChanges.taken`) — and never reaches a workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from domain.errors import InvalidField

HORIZON_YEARS = 10
"""How many years ahead a date may lie. The longest real plan signoff runs is an end of life, whose end of support
and shutdown may come several years after the announcement (long-term-support products promise five to seven);
ten years holds every such plan, while the latest moment a process derives from it (years of data retention,
months of reminders and follow-ups) stays centuries away from the calendar's end. A date further off is a typo
(9999 for 2026) or a placeholder, and refusing it says so at once rather than years later."""


def latest_day(today: date) -> date:
    """The last day a date given on `today` may name: `HORIZON_YEARS` from it (29 February: the 28th)."""
    try:
        return today.replace(year=today.year + HORIZON_YEARS)
    except ValueError:  # 29 February, HORIZON_YEARS later, in a year that has none
        return today.replace(year=today.year + HORIZON_YEARS, day=28)


def too_far(field: str, value: date | datetime, today: date) -> InvalidField | None:
    """The refusal of `value` given for `field` on `today` if it lies past the horizon; None if it is within.

    A date-time counts by its own day (in the zone it was given in).

    >>> str(too_far("launch_date", date(9999, 12, 25), date(2026, 12, 2)))
    'launch_date: 9999-12-25 is more than 10 years away; give a date no later than 2036-12-02'
    >>> too_far("launch_date", date(2036, 12, 2), date(2026, 12, 2)) is None
    True
    """
    day = value.date() if isinstance(value, datetime) else value
    last = latest_day(today)
    if day <= last:
        return None
    shown = value.isoformat()
    return InvalidField(field, f"{shown} is more than {HORIZON_YEARS} years away; give a date no later than {last}")


def beyond_horizon(values: Mapping[str, object], today: date, prefix: str = "") -> list[InvalidField]:
    """The refusals of every date and date-time among `values` (field → value) that lies past the horizon,
    each naming its field (after `prefix`: ``add_items.0.due``).

    >>> [str(e) for e in beyond_horizon({"a": date(2030, 1, 1), "b": date(9999, 1, 1), "c": "x"}, date(2026, 1, 1))]
    ['b: 9999-01-01 is more than 10 years away; give a date no later than 2036-01-01']
    """
    found = (too_far(f"{prefix}{field}", value, today) for field, value in values.items() if isinstance(value, date))
    return [problem for problem in found if problem is not None]
