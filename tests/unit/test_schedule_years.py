"""A schedule every N years names only years Temporal takes (2000–2100), from this one on."""

from __future__ import annotations

from datetime import UTC, datetime

from api.schedule_specs import LAST_YEAR, schedule_spec


def test_years_run_from_this_one_to_the_last_temporal_takes() -> None:
    now = datetime(2026, 12, 2, 17, 30, tzinfo=UTC)

    [yearly] = schedule_spec("1y", None, None, now).calendars
    [every_two] = schedule_spec("2y", None, "Europe/Berlin", now).calendars

    assert LAST_YEAR == 2100
    assert [(r.start, r.end, r.step) for r in yearly.year] == [(2026, 2100, 1)]
    assert [(r.start, r.end, r.step) for r in every_two.year] == [(2026, 2100, 2)]
    assert [r.start for r in yearly.month] == [12] and [r.start for r in yearly.day_of_month] == [2]
