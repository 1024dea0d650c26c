"""Pure rules: quorum, gate outcome, due dates and the notice schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.enums import Decision, GateStatus
from domain.models import Policy
from domain.rules import Notice, at_hour, due_date, gate_outcome, item_notices, required_approvals, schedule
from domain.views import ApprovalRecord

APPROVERS = ["a@example.com", "b@example.com", "c@example.com"]
AT = datetime(2026, 12, 10, 9, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 9, tzinfo=UTC)


def decided(approver: str, decision: Decision) -> ApprovalRecord:
    return ApprovalRecord(gate="go-no-go", approver=approver, decision=decision, at=AT)


def outcome(policy: Policy, *decisions: tuple[str, Decision]) -> GateStatus:
    return gate_outcome(policy, APPROVERS, [decided(who, what) for who, what in decisions])


A, B, C = APPROVERS
YES, NO, CHANGES = Decision.APPROVE, Decision.REJECT, Decision.CHANGES


# ---- required_approvals ------------------------------------------------------


def test_all_needs_every_approver() -> None:
    assert required_approvals("all", 3) == 3


def test_any_needs_one_approver() -> None:
    assert required_approvals("any", 3) == 1


def test_quorum_needs_its_number() -> None:
    assert required_approvals(2, 3) == 2


def test_quorum_equal_to_approvers_is_allowed() -> None:
    assert required_approvals(3, 3) == 3


def test_quorum_larger_than_approvers_raises() -> None:
    with pytest.raises(ValueError, match="quorum of 4"):
        required_approvals(4, 3)


# ---- gate_outcome ------------------------------------------------------------


def test_gate_with_no_decisions_is_open() -> None:
    assert outcome("all") == GateStatus.OPEN


def test_all_is_open_until_everyone_approves() -> None:
    assert outcome("all", (A, YES), (B, YES)) == GateStatus.OPEN


def test_all_is_approved_when_everyone_approves() -> None:
    assert outcome("all", (A, YES), (B, YES), (C, YES)) == GateStatus.APPROVED


def test_all_is_rejected_by_the_first_rejection() -> None:
    assert outcome("all", (A, YES), (B, NO)) == GateStatus.REJECTED


def test_all_is_rejected_by_a_request_for_changes() -> None:
    assert outcome("all", (A, CHANGES)) == GateStatus.REJECTED


def test_any_is_approved_by_one_approval() -> None:
    assert outcome("any", (B, YES)) == GateStatus.APPROVED


def test_any_stays_open_while_someone_may_still_approve() -> None:
    assert outcome("any", (A, NO), (B, NO)) == GateStatus.OPEN


def test_any_is_rejected_only_when_everyone_refuses() -> None:
    assert outcome("any", (A, NO), (B, CHANGES), (C, NO)) == GateStatus.REJECTED


def test_quorum_is_open_with_one_approval() -> None:
    assert outcome(2, (A, YES)) == GateStatus.OPEN


def test_quorum_is_approved_when_met() -> None:
    assert outcome(2, (A, YES), (C, YES)) == GateStatus.APPROVED


def test_quorum_stays_open_after_one_refusal() -> None:
    assert outcome(2, (A, NO), (B, YES)) == GateStatus.OPEN


def test_quorum_is_rejected_when_it_can_no_longer_be_met() -> None:
    assert outcome(2, (A, NO), (B, CHANGES)) == GateStatus.REJECTED


def test_changes_does_not_count_as_approval() -> None:
    assert outcome(2, (A, YES), (B, CHANGES)) == GateStatus.OPEN


def test_decisions_of_non_approvers_are_ignored() -> None:
    strangers = [("x@example.com", YES), ("y@example.com", YES), ("z@example.com", NO)]
    assert outcome("any", *strangers) == GateStatus.OPEN
    assert outcome("all", (A, YES), (B, YES), ("x@example.com", NO)) == GateStatus.OPEN


def test_an_approvers_latest_decision_counts() -> None:
    assert outcome("all", (A, NO), (A, YES), (B, YES), (C, YES)) == GateStatus.APPROVED


# ---- dates -------------------------------------------------------------------


def test_due_date_counts_back_from_the_anchor() -> None:
    assert due_date(date(2026, 12, 15), -14) == date(2026, 12, 1)


def test_due_date_with_zero_offset_is_the_anchor() -> None:
    assert due_date(date(2026, 12, 15), 0) == date(2026, 12, 15)


def test_due_date_crosses_month_and_year() -> None:
    assert due_date(date(2027, 1, 3), -7) == date(2026, 12, 27)


def test_at_hour_is_that_hour_in_utc() -> None:
    moment = at_hour(date(2026, 12, 15), 9)
    assert moment == datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)


# ---- item_notices ------------------------------------------------------------


def notices(
    until: datetime, before: tuple[int, ...] = (3, 1), every: int | None = 2, esc: int | None = 3
) -> list[Notice]:
    """The notices of one item due at DUE: reminders, overdue every 2 days, escalation after 3."""
    return item_notices("docs", DUE, before, every, esc, until)


def test_reminders_go_three_and_one_day_before_at_the_hour() -> None:
    reminders = [n for n in notices(DUE + timedelta(days=30)) if n.kind == "reminder"]
    assert [(n.at, n.tag) for n in reminders] == [
        (datetime(2026, 11, 28, 9, tzinfo=UTC), "before-3"),
        (datetime(2026, 11, 30, 9, tzinfo=UTC), "before-1"),
    ]


def test_repeated_reminder_days_give_one_reminder_each() -> None:
    reminders = notices(DUE, before=(1, 3, 1), every=None, esc=None)
    assert [n.tag for n in reminders] == ["before-3", "before-1"]


def test_overdue_notices_repeat_strictly_before_until() -> None:
    overdue = [n for n in notices(DUE + timedelta(days=6)) if n.kind == "overdue"]
    assert [(n.at, n.tag) for n in overdue] == [
        (DUE + timedelta(days=2), "overdue-2"),
        (DUE + timedelta(days=4), "overdue-4"),
    ]


def test_no_overdue_notices_when_not_configured() -> None:
    assert not [n for n in notices(DUE + timedelta(days=30), every=None) if n.kind == "overdue"]


def test_escalation_comes_once_after_its_days() -> None:
    escalations = [n for n in notices(DUE + timedelta(days=30)) if n.kind == "escalation"]
    assert [(n.at, n.tag) for n in escalations] == [(DUE + timedelta(days=3), "escalation")]


def test_escalation_at_until_is_dropped() -> None:
    assert not [n for n in notices(DUE + timedelta(days=3)) if n.kind == "escalation"]


def test_nothing_at_or_after_until() -> None:
    until = DUE + timedelta(days=4)
    found = notices(until)
    assert found
    assert all(n.at < until for n in found)


def test_until_before_every_reminder_gives_nothing() -> None:
    assert notices(DUE - timedelta(days=3)) == []


def test_notices_are_in_time_order_and_name_the_item() -> None:
    found = notices(DUE + timedelta(days=8))
    assert [n.tag for n in found] == ["before-3", "before-1", "overdue-2", "escalation", "overdue-4", "overdue-6"]
    assert {n.item for n in found} == {"docs"}


# ---- schedule ----------------------------------------------------------------


def notice(item: str, at: datetime, tag: str = "before-1") -> Notice:
    return Notice(item=item, kind="reminder", at=at, tag=tag)


def test_schedule_drops_notices_at_or_before_after() -> None:
    start = DUE
    groups = schedule(
        [notice("a", start - timedelta(hours=1)), notice("b", start), notice("c", start + timedelta(hours=1))],
        after=start,
    )
    assert [[n.item for n in group] for group in groups] == [["c"]]


def test_schedule_groups_notices_of_one_moment() -> None:
    groups = schedule([notice("b", DUE), notice("a", DUE)], after=DUE - timedelta(days=1))
    assert len(groups) == 1
    assert [n.item for n in groups[0]] == ["a", "b"]


def test_schedule_orders_groups_by_time() -> None:
    later, sooner = DUE + timedelta(days=1), DUE
    groups = schedule(
        [notice("x", later), notice("y", sooner), notice("z", later, tag="overdue-2")],
        after=DUE - timedelta(days=1),
    )
    assert [[n.at for n in group] for group in groups] == [[sooner], [later, later]]
    assert [n.item for n in groups[1]] == ["x", "z"]


def test_schedule_of_nothing_is_empty() -> None:
    assert schedule([], after=DUE) == []
