"""A process's time zone: its moments at the template's hour there, date-times without an offset read there."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from domain.comms import CommsParams
from domain.launch import LaunchParams
from domain.rules import at_hour, local_time


def test_the_hour_is_the_zones_with_its_daylight_saving() -> None:
    assert at_hour(date(2026, 12, 15), 9) == datetime(2026, 12, 15, 9, tzinfo=UTC)
    assert at_hour(date(2026, 12, 15), 9, "Europe/Berlin") == datetime(2026, 12, 15, 8, tzinfo=UTC)  # CET
    assert at_hour(date(2026, 7, 15), 9, "Europe/Berlin") == datetime(2026, 7, 15, 7, tzinfo=UTC)  # CEST
    assert at_hour(date(2026, 12, 15), 9, "America/New_York") == datetime(2026, 12, 15, 14, tzinfo=UTC)


def test_a_moment_is_shown_in_the_zone_and_names_it() -> None:
    moment = datetime(2026, 12, 15, 8, tzinfo=UTC)
    assert local_time(moment) == "2026-12-15 08:00 UTC"
    assert local_time(moment, "Europe/Berlin") == "2026-12-15 09:00 CET"
    assert local_time(moment, "Asia/Tokyo", seconds=True) == "2026-12-15 17:00:00 JST"


def launch(**changes: object) -> LaunchParams:
    params = {
        "product": "Acme", "launch_date": "2026-12-15", "owner": "pm@example.com", "approvers": ["vp@example.com"],
    }  # fmt: skip
    return LaunchParams.model_validate(params | changes)


def test_a_time_zone_must_be_one() -> None:
    assert launch(time_zone="Europe/Berlin").zone.key == "Europe/Berlin"
    assert launch().time_zone == "" and launch().zone.key == "UTC"
    with pytest.raises(ValidationError, match="'Europe/Atlantis' is not a time zone; give an IANA name like"):
        launch(time_zone="Europe/Atlantis")


def test_a_date_time_without_an_offset_is_the_process_zones() -> None:
    base = {
        "subject": "Maintenance", "body": "Sunday.", "audience": ["ana@customer.example"],
        "reviewers": ["cs@example.com:Customer Success"], "owner": "pm@example.com",
    }  # fmt: skip
    berlin = CommsParams.model_validate(base | {"send_at": "2026-12-20T10:00", "time_zone": "Europe/Berlin"})
    assert berlin.send_at == datetime(2026, 12, 20, 9, tzinfo=UTC)
    no_zone = CommsParams.model_validate(base | {"send_at": "2026-12-20T10:00"})
    assert no_zone.send_at == datetime(2026, 12, 20, 10, tzinfo=UTC)
    with_offset = CommsParams.model_validate(base | {"send_at": "2026-12-20T10:00+05:00", "time_zone": "Europe/Berlin"})
    assert with_offset.send_at == datetime(2026, 12, 20, 5, tzinfo=UTC)  # an offset given is kept


def test_the_calendar_lays_its_days_out_in_the_deployments_zone() -> None:
    """A moment late on the 31st in UTC is on the 1st in Tokyo: the next month, its first day."""
    from domain.calendar import calendar
    from domain.enums import ProcessStatus
    from domain.views import PlannedMoment, ProcessView

    moment = datetime(2027, 1, 31, 20, tzinfo=UTC)  # 2027-02-01 05:00 in Tokyo
    view = ProcessView(
        id="launch-x", kind="launch", title="Launch: X", status=ProcessStatus.RUNNING, owner="pm@example.com",
        params={}, steps=[], plan=[PlannedMoment(at=moment, what="launch day")],
    )  # fmt: skip
    assert [e.what for e in calendar([view], date(2027, 1, 1)).on(date(2027, 1, 31))] == ["launch day"]
    in_tokyo = calendar([view], date(2027, 2, 1), "Asia/Tokyo")
    assert [e.what for e in in_tokyo.on(date(2027, 2, 1))] == ["launch day"]
    assert calendar([view], date(2027, 1, 1), "Asia/Tokyo").entries == []
