"""A launch started late: its checklist compressed into the time left, and what its kickoff says of its items."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime, timedelta

import pytest

import domain.late_start
from config.templates import load_template
from domain.late_start import assumed_days, compress, kickoff_facts
from domain.rules import Notice, at_hour, item_notices
from domain.templates import LaunchTemplate

LAUNCH = load_template("launch")
assert isinstance(LAUNCH, LaunchTemplate)
OFFSETS = [(item.key, item.due_offset_days) for item in LAUNCH.items]
DAY = date(2026, 12, 15)
GATE = LAUNCH.gate.offset_days


def test_the_docstring_examples() -> None:
    failed, tried = doctest.testmod(domain.late_start)
    assert tried and not failed


def test_the_default_checklist_assumes_four_weeks() -> None:
    assert assumed_days(offset for _, offset in OFFSETS) == 28
    assert assumed_days([]) == 0


@pytest.mark.parametrize("days_left", [28, 30, 60])
def test_a_launch_with_time_enough_is_not_compressed(days_left: int) -> None:
    assert compress(OFFSETS, DAY, DAY - timedelta(days=days_left), GATE) is None


@pytest.mark.parametrize("days_left", [0, 1, 2, 3, 5, 8, 14, 20, 27])
def test_compressed_dates_keep_their_order_and_stay_between_today_and_the_gate(days_left: int) -> None:
    today = DAY - timedelta(days=days_left)
    compression = compress(OFFSETS, DAY, today, GATE)

    assert compression is not None
    assert (compression.days_left, compression.assumed_days) == (days_left, 28)
    after = {m.item: m.after for m in compression.items}
    assert [m.item for m in compression.items] == [key for key, _ in OFFSETS]
    assert min(after.values()) == today, "the earliest item is due today"
    assert all(due >= today for due in after.values()), "nothing is due before today"
    by_offset = sorted(OFFSETS, key=lambda pair: pair[1])
    assert [after[key] for key, _ in by_offset] == sorted(after.values()), "the order is kept"
    gate_day = DAY - timedelta(days=GATE)
    assert all(after[key] <= max(gate_day, today) for key, offset in OFFSETS if offset <= -GATE)
    assert all(m.before == DAY + timedelta(days=dict(OFFSETS)[m.item]) for m in compression.items)


def test_fourteen_days_out_the_default_checklist_fits_into_eleven_days_before_the_gate() -> None:
    compression = compress(OFFSETS, DAY, DAY - timedelta(days=14), GATE)

    assert compression is not None
    assert {m.item: (DAY - m.after).days for m in compression.items} == {
        "release-plan": 14, "pricing-billing": 11, "legal-review": 11, "security-review": 11, "documentation": 5,
        "release-notes": 4, "support-training": 4, "sales-enablement": 4, "marketing-page": 3,
        "monitoring-oncall": 3, "rollback-plan": 3, "success-metrics": 3,
    }  # fmt: skip
    assert compression.audit()["items"][0] == {"item": "release-plan", "before": "2026-11-17", "after": "2026-12-01"}


def test_an_item_due_after_the_gate_opens_is_scaled_towards_launch_day() -> None:
    compression = compress([("plan", -20), ("page", -2), ("party", 0)], DAY, DAY - timedelta(days=10), 3)

    assert compression is not None
    assert [(DAY - m.after).days for m in compression.items] == [10, 1, 0]


def _notices(key: str, due: date, until: datetime) -> list[Notice]:
    return item_notices(key, at_hour(due, 9), [3, 1], 2, 3, until=until)


def test_kickoff_facts_name_the_late_the_escalated_and_the_unreminded() -> None:
    today, launch_at = date(2026, 12, 1), at_hour(DAY, 9)
    now = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    dues = {
        "long-late": today - timedelta(days=7),  # past its escalation (3 days): the owner hears at kickoff
        "just-late": today - timedelta(days=1),  # late, escalated tomorrow
        "today": today,  # due this morning: on time, but no reminder before it
        "tomorrow": today + timedelta(days=1),  # its last reminder was this morning
        "later": today + timedelta(days=5),  # reminded three days and a day before
    }
    notices = [n for key, due in dues.items() for n in _notices(key, due, launch_at)]

    facts = kickoff_facts(dues, notices, now, today)

    assert facts.late == ["long-late", "just-late"]
    assert facts.escalate == ["long-late"]
    assert set(facts.first_reminder) == {"long-late", "just-late", "today", "tomorrow"}
    assert facts.first_reminder["today"] == at_hour(today + timedelta(days=2), 9), "the first overdue reminder"
    assert facts.first_reminder["long-late"] == at_hour(today + timedelta(days=1), 9)


def test_an_item_with_no_reminder_before_launch_day_has_none() -> None:
    today, now = date(2026, 12, 14), datetime(2026, 12, 14, 10, tzinfo=UTC)
    dues = {"eve": today}
    notices = _notices("eve", today, at_hour(DAY, 9))

    assert kickoff_facts(dues, notices, now, today).first_reminder == {"eve": None}
