"""The horizon: a date a person gives a process (a start of any kind, an edit) lies within ten years, or is refused
naming its field; an edit's send time without an offset is read in the process's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from api.starts import ParamsError, prepare_start
from config.templates import load_template
from domain.edits import EditChanges, EditInput
from domain.errors import InvalidField
from domain.horizon import latest_day, too_far
from domain.postmortem import ActionItemsInput

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)

STARTS: dict[str, dict[str, Any]] = {
    "launch": {"product": "Acme", "launch_date": "2027-01-15", "owner": "pm@example.com",
               "approvers": ["vp@example.com"]},
    "eol": {"product": "Old", "announce_date": "2027-01-01", "end_of_sale": "2027-04-01",
            "end_of_support": "2027-07-01", "shutdown_date": "2027-12-01", "customers": ["c@example.com"],
            "migration_guide": "https://example.com/guide", "owner": "pm@example.com",
            "approvers": ["vp@example.com"]},
    "comms": {"subject": "Hi", "body": "Hello.", "audience": ["c@example.com"], "reviewers": ["cs@example.com"],
              "owner": "pm@example.com", "send_at": "2027-01-10T09:00:00"},
    "postmortem": {"incident": "INC-1", "title": "Outage", "severity": "SEV2", "commander": "ic@example.com",
                   "reviewers": ["sre@example.com"], "resolved_at": "2026-12-01T10:00:00+00:00"},
}  # fmt: skip


def test_the_last_day_is_ten_years_on_and_a_leap_day_falls_to_the_28th() -> None:
    assert latest_day(TODAY) == date(2036, 12, 2)
    assert latest_day(date(2028, 2, 29)) == date(2038, 2, 28)
    assert too_far("launch_date", date(2036, 12, 2), TODAY) is None
    refused = too_far("launch_date", date(2036, 12, 3), TODAY)
    assert refused is not None and refused.field == "launch_date"


@pytest.mark.parametrize(
    ("kind", "field", "far"),
    [
        ("launch", "launch_date", "9999-12-25"),
        ("eol", "shutdown_date", "9999-12-01"),
        ("comms", "send_at", "9999-12-31T23:00:00"),
        ("comms", "send_at", "9999-12-31T23:59:59-12:00"),
        ("postmortem", "starts_at", "9999-06-01T09:00:00+00:00"),
    ],
)
def test_a_start_with_a_date_past_the_horizon_is_refused_naming_it(kind: str, field: str, far: str) -> None:
    prepare_start(kind, STARTS[kind], "pm@example.com", load_template, TODAY)  # within it: starts
    with pytest.raises(ParamsError) as caught:
        prepare_start(kind, STARTS[kind] | {field: far}, "pm@example.com", load_template, TODAY)
    [error] = caught.value.errors
    assert error["loc"] == ["params", field]
    assert error["msg"].startswith(f"{far}") and "is more than 10 years away" in error["msg"]
    assert "2036-12-02" in error["msg"]


def test_a_far_date_is_named_beside_the_fields_that_do_not_read() -> None:
    with pytest.raises(ParamsError) as caught:
        params = STARTS["launch"] | {"launch_date": "9999-12-25", "approvers": ["not-an-address"]}
        prepare_start("launch", params, "pm@example.com", load_template, TODAY)
    named = {tuple(e["loc"]) for e in caught.value.errors}
    assert named == {("params", "approvers", 0), ("params", "launch_date")}


def test_a_resolved_time_in_the_future_is_refused_once() -> None:
    with pytest.raises(ParamsError) as caught:
        params = STARTS["postmortem"] | {"resolved_at": "9999-01-01T00:00:00+00:00"}
        prepare_start("postmortem", params, "pm@example.com", load_template, TODAY)
    [error] = caught.value.errors
    assert "is in the future" in error["msg"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"launch_date": "9999-12-25"}, "launch_date"),
        ({"shutdown_date": "9999-12-01"}, "shutdown_date"),
        ({"send_at": "9999-12-31T23:59:00"}, "send_at"),
        ({"add_items": [{"title": "Docs", "owner": "d@example.com", "due": "9999-01-01"}]}, "add_items.0.due"),
    ],
)
def test_an_edit_with_a_date_past_the_horizon_is_refused_naming_it(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        EditChanges.model_validate(change).taken("Europe/Berlin", NOW)
    assert caught.value.field == field and "is more than 10 years away" in caught.value.reason


def test_every_far_date_of_an_edit_is_named_at_once() -> None:
    with pytest.raises(InvalidField) as caught:
        EditChanges.model_validate({"end_of_sale": "9000-01-01", "shutdown_date": "9999-12-01"}).taken("", NOW)
    assert [e.field for e in caught.value.each] == ["end_of_sale", "shutdown_date"]


def test_an_edits_send_time_without_an_offset_is_read_in_the_processs_zone() -> None:
    naive = EditChanges.model_validate({"send_at": "2026-12-28T09:00"})
    berlin = naive.taken("Europe/Berlin", NOW)
    assert berlin.send_at == datetime(2026, 12, 28, 8, tzinfo=UTC)
    assert naive.taken("", NOW).send_at == datetime(2026, 12, 28, 9, tzinfo=UTC), "no zone: UTC"
    given = EditChanges.model_validate({"send_at": "2026-12-28T09:00:00-05:00"}).taken("Europe/Berlin", NOW)
    assert given.send_at == datetime(2026, 12, 28, 14, tzinfo=UTC), "an offset given is kept"
    assert EditInput(**dict(berlin)).send_at == berlin.send_at


def test_the_process_never_gets_a_send_time_without_its_zone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        EditInput.model_validate({"send_at": "2026-12-28T09:00"})


def test_action_items_due_past_the_horizon_are_refused_naming_each() -> None:
    items = ActionItemsInput.model_validate(
        {"items": [{"title": "Alert", "owner": "sre@example.com", "due": "2027-01-05"},
                   {"title": "Runbook", "owner": "sre@example.com", "due": "9999-12-25"},
                   {"title": "Dashboards", "owner": "sre@example.com"}]}
    )  # fmt: skip

    with pytest.raises(InvalidField) as caught:
        items.dated_within(TODAY)
    assert [e.field for e in caught.value.each] == ["items.1.due"]
    assert ActionItemsInput.model_validate({"items": items.items[:1]}).dated_within(TODAY).items == items.items[:1]
