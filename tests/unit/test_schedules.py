"""The pure side of recurring processes: periods, relative dates, each run's day, and the schedule's spec."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.client import ScheduleRange

from api.schedules import schedule_spec
from api.starts import ParamsError
from domain.errors import InvalidField
from domain.schedules import Every, check_name, default_name, resolve, run_day

AT = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("7d", "every 7 days"),
        ("1w", "every week"),
        ("1mo", "every month"),
        ("3mo", "every 3 months"),
        ("1y", "every year"),
    ],
)
def test_a_period_reads_as_it_is_said(text: str, said: str) -> None:
    assert str(Every.parse(text)) == said


@pytest.mark.parametrize("text", ["", "0d", "monthly", "5mo", "1h", "-1d"])
def test_a_period_that_is_none_is_refused_naming_every(text: str) -> None:
    with pytest.raises(InvalidField) as refused:
        Every.parse(text)
    assert refused.value.field == "every"


def test_months_that_divide_a_year_come_round_from_the_first() -> None:
    assert Every.parse("3mo").months(11) == [2, 5, 8, 11]
    assert Every.parse("1mo").months(5) == list(range(1, 13))


def test_relative_dates_resolve_from_the_runs_day_and_moment() -> None:
    params = {"launch_date": "+14d", "product": "+14d", "send_at": "+2d"}

    launch = resolve("launch", params, AT, date(2027, 2, 1))
    comms = resolve("comms", {"send_at": "+2d", "subject": "x"}, AT, date(2027, 2, 1))
    eol = resolve("eol", {"announce_date": "+0d", "shutdown_date": "2027-09-01"}, AT, date(2027, 2, 1))

    assert launch == {"launch_date": "2027-02-15", "product": "+14d", "send_at": "+2d"}, "only the kind's dates move"
    assert comms["send_at"] == "2027-02-02T23:30:00+00:00"
    assert eol == {"announce_date": "2027-02-01", "shutdown_date": "2027-09-01"}


def test_a_runs_day_is_its_date_in_the_schedules_time_zone() -> None:
    assert run_day(AT, None) == date(2027, 1, 31)
    assert run_day(AT, "Asia/Tokyo") == date(2027, 2, 1)
    assert run_day(AT, "America/Los_Angeles") == date(2027, 1, 31)


def test_a_schedule_is_named_after_what_it_starts() -> None:
    assert default_name("launch", {"product": "Monthly Release 2.0"}) == "launch-monthly-release-2-0"
    assert default_name("comms", {"subject": "Policy notice"}) == "comms-policy-notice"
    assert check_name("quarterly-access-review") == "quarterly-access-review"
    with pytest.raises(InvalidField):
        check_name("Not A Name")


def test_days_and_weeks_start_one_period_from_now() -> None:
    spec = schedule_spec("7d", None, None, AT)

    [interval] = spec.intervals
    assert interval.every == timedelta(days=7)
    assert interval.offset is not None
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    periods = (AT - epoch - interval.offset) / interval.every
    assert periods == int(periods), "a run falls on this very moment, so the next is a week on"


def test_months_fall_on_this_day_at_this_time_in_the_time_zone_the_28th_at_most() -> None:
    spec = schedule_spec("3mo", None, "Asia/Tokyo", AT)  # 2027-02-01 08:30 in Tokyo

    [calendar] = spec.calendars
    assert spec.time_zone_name == "Asia/Tokyo"
    assert (calendar.hour, calendar.minute, calendar.day_of_month) == (
        (ScheduleRange(8),),
        (ScheduleRange(30),),
        (ScheduleRange(1),),
    )
    assert [r.start for r in calendar.month] == [2, 5, 8, 11]
    late = schedule_spec("1mo", None, None, AT)  # the 31st
    assert late.calendars[0].day_of_month == (ScheduleRange(28),)


def test_when_it_runs_is_one_of_every_and_cron() -> None:
    with pytest.raises(ParamsError) as neither:
        schedule_spec(None, None, None, AT)
    with pytest.raises(ParamsError) as both:
        schedule_spec("1mo", "0 9 1 * *", None, AT)
    with pytest.raises(ParamsError) as zone:
        schedule_spec(None, "0 9 1 * *", "../../etc/passwd", AT)

    assert neither.value.errors[0]["loc"] == both.value.errors[0]["loc"] == ["every"]
    assert zone.value.errors[0]["loc"] == ["time_zone"]
    assert schedule_spec(None, "0 9 1 * *", "Europe/Berlin", AT).cron_expressions == ["0 9 1 * *"]
