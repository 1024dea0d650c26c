"""The moment every test on the time-skipping server starts at, whatever the hour of the run.

The time-skipping test server starts its clock at the real time, and signoff
acts at fixed hours (09:00 in the bundled templates). A test that starts "now"
and skips a fixed duration would see one more or one fewer reminder depending
on the hour it happened to run. So before each test the server is advanced to
a pinned *start clock*: a fixed time of day, optionally on a month's last day.

`SIGNOFF_TEST_CLOCK` names it: ``HH:MM`` (UTC), or ``month-end HH:MM``. The
suite's default, ``month-end 23:59``, is the harshest single moment: a minute
from the end of a day, of a month and, in December, of a year, and the farthest
from 09:00 in the way that once broke a test (issue #10). `scripts/test-clock`
runs the time-skipping tests at every clock of `SWEEP`.

The start is also always more than a day after the server's current time,
so the server's date is never the real date: a test that mixes the real clock
(`datetime.now()`, `date.today()`) with the server's fails every time instead
of at some hours.
"""

from __future__ import annotations

import calendar
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from temporalio.testing import WorkflowEnvironment

VARIABLE = "SIGNOFF_TEST_CLOCK"
DEFAULT = "month-end 23:59"
SWEEP = ("00:30", "08:59", "09:01", "12:00", "21:45", "23:59", "month-end 00:30", "month-end 23:59")
"""The clocks `scripts/test-clock` runs the time-skipping tests at: each side of the
templates' 09:00, late evening (where issue #10's failure happened), the last
minute of a day, and a month's last day at both ends."""

_FORMAT = re.compile(r"(?P<month_end>month-end\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})")


@dataclass(frozen=True)
class StartClock:
    """A time of day in UTC, on any day or only on a month's last day."""

    at: time
    month_end: bool = False

    @classmethod
    def parse(cls, text: str) -> StartClock:
        """``"HH:MM"`` or ``"month-end HH:MM"``.

        Raises:
            ValueError: with a sentence naming the variable and the accepted forms.
        """
        found = _FORMAT.fullmatch(text.strip())
        if not found or int(found["hour"]) > 23 or int(found["minute"]) > 59:
            raise ValueError(f"{VARIABLE}={text!r}: expected HH:MM or 'month-end HH:MM' (UTC), e.g. 'month-end 23:59'")
        return cls(time(int(found["hour"]), int(found["minute"])), month_end=bool(found["month_end"]))

    def first_after(self, moment: datetime) -> datetime:
        """The first start at least a day after `moment` (so never on `moment`'s date)."""
        day = (moment + timedelta(days=1)).date()
        while True:
            start = datetime.combine(day, self.at, tzinfo=UTC)
            if start > moment + timedelta(days=1) and (not self.month_end or _last_of_month(day)):
                return start
            day += timedelta(days=1)

    def __str__(self) -> str:
        return f"{'month-end ' if self.month_end else ''}{self.at:%H:%M}"


def _last_of_month(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def configured() -> StartClock:
    """The start clock `SIGNOFF_TEST_CLOCK` names, or the suite's default."""
    return StartClock.parse(os.environ.get(VARIABLE) or DEFAULT)


async def start_test(env: WorkflowEnvironment) -> None:
    """Skip the server's time to the next start of the configured clock.

    Call it before the test starts anything: a workflow still running would
    fire its timers on the way.
    """
    await skip_to(env, configured().first_after(await env.get_current_time()))


async def skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Skip the server's time to `moment`; everything due before it has run when this returns."""
    remaining = moment - await env.get_current_time()
    assert remaining > timedelta(0), f"{moment} is already past"
    await env.sleep(remaining)
