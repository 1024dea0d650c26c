"""The start clock the time-skipping tests are pinned to (tests/clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from tests.clock import DEFAULT, SWEEP, StartClock


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("clock", "now", "start"),
    [
        ("12:00", "2026-12-01T21:49", "2026-12-03T12:00"),  # more than a day ahead: never today, nor tomorrow at 12:00
        ("12:00", "2026-12-01T11:00", "2026-12-02T12:00"),
        ("23:59", "2026-12-01T00:00", "2026-12-02T23:59"),
        ("00:30", "2026-12-31T23:59", "2027-01-02T00:30"),  # across a year end
        ("month-end 23:59", "2026-12-01T21:49", "2026-12-31T23:59"),
        ("month-end 23:59", "2026-12-31T12:00", "2027-01-31T23:59"),  # today is a month end, but not a day ahead
        ("month-end 00:30", "2028-02-01T00:00", "2028-02-29T00:30"),  # a leap year's February
        ("month-end 00:30", "2027-02-10T00:00", "2027-02-28T00:30"),
    ],
)
def test_the_first_start_is_a_day_or_more_ahead_on_the_clock(clock: str, now: str, start: str) -> None:
    assert StartClock.parse(clock).first_after(at(now)) == at(start)


def test_every_clock_of_the_sweep_and_the_default_parse() -> None:
    parsed = [StartClock.parse(text) for text in (*SWEEP, DEFAULT)]
    assert [str(clock) for clock in parsed] == [*SWEEP, DEFAULT]
    assert StartClock.parse(DEFAULT) == StartClock(time(23, 59), month_end=True)


@pytest.mark.parametrize("text", ["", "9", "24:00", "12:60", "noon", "month-end", "end 12:00", "12:00 month-end"])
def test_a_clock_that_is_not_one_is_refused_with_the_forms_that_are(text: str) -> None:
    with pytest.raises(ValueError, match=r"SIGNOFF_TEST_CLOCK=.*expected HH:MM or 'month-end HH:MM'"):
        StartClock.parse(text)
