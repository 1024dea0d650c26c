"""When a schedule runs: its ``every`` or ``cron`` and its time zone as a Temporal `ScheduleSpec`, each checked.

Temporal alone reads a cron in a time zone, so what a cron means is read back from the schedule once it is made
(`api.schedules.Schedules.create`); an ``every`` is made here into intervals or calendar dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from temporalio.client import ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec

from api.starts import ParamsError
from domain.errors import InvalidField
from domain.schedules import Every

LAST_YEAR = 2100
"""The last year a Temporal calendar spec may name: Temporal takes years 2000 to 2100 and refuses the whole schedule
for one outside them, so a yearly schedule names its years up to this one (it stops after 2100)."""


def refused(field: str, message: str) -> ParamsError:
    """A refusal of one field of a schedule (`field`), in a start's shape: `api.starts.ParamsError`."""
    return ParamsError([{"loc": [field], "msg": message, "type": "value_error"}])


def _zone(name: str | None) -> ZoneInfo | None:
    """The time zone `name`, checked.

    Raises:
        ParamsError: naming ``time_zone``.
    """
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise refused("time_zone", f"{name!r} is not a time zone: an IANA name such as Europe/Berlin or UTC") from None


def schedule_spec(every: str | None, cron: str | None, zone_name: str | None, now: datetime) -> ScheduleSpec:
    """When a schedule runs: `cron` as Temporal reads it, or every `every` from `now`, at its time of day.

    Days and weeks are intervals phased so the first run comes one period after `now`; months and years are
    calendar dates, the day of the month of `now` (the 28th at the latest, which every month has) at its hour
    and minute in the time zone; years run to `LAST_YEAR`.

    Raises:
        ParamsError: naming ``every``, ``cron`` or ``time_zone``.
    """
    zone = _zone(zone_name)
    if (every is None) == (cron is None):
        raise refused("every", "say when it runs: every (7d, 2w, 1mo, 3mo, 1y) or cron (0 9 1 * *), one of them")
    if cron is not None:
        return ScheduleSpec(cron_expressions=[cron.strip()], time_zone_name=zone_name)
    try:
        period = Every.parse(str(every))
    except InvalidField as err:
        raise refused("every", err.reason) from None
    if period.unit in ("d", "w"):
        seconds = int(period.span.total_seconds())
        offset = timedelta(seconds=int(now.timestamp()) % seconds)
        return ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=period.span, offset=offset)], time_zone_name=zone_name
        )
    local = now.astimezone(zone or UTC)
    years: tuple[ScheduleRange, ...] = ()
    if period.unit == "mo":
        months = period.months(local.month)
    else:  # every `count` years from this one, as far as Temporal reads years
        months, years = [local.month], (ScheduleRange(local.year, LAST_YEAR, period.count),)
    calendar = ScheduleCalendarSpec(
        second=(ScheduleRange(0),),
        minute=(ScheduleRange(local.minute),),
        hour=(ScheduleRange(local.hour),),
        day_of_month=(ScheduleRange(min(local.day, 28)),),
        month=tuple(ScheduleRange(month) for month in months),
        year=years,
        comment=str(period),
    )
    return ScheduleSpec(calendars=[calendar], time_zone_name=zone_name)
