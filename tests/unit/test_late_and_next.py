"""What is late, who a process waits on and what it does next (`domain.rules`), and someone's work
(`domain.work`): pure, from the view alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.enums import Decision, GateStatus, ProcessStatus, StepStatus
from domain.rules import decision_due, is_overdue, next_up, overdue_items, waiting_on
from domain.views import ApprovalRecord, GateState, ItemState, PlannedMoment, ProcessView, StepView
from domain.work import in_order, work_of

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LAUNCH_AT = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
STEPS = ["kickoff", "checklist", "go-no-go", "launch-day"]


def item(key: str, due: date, owner: str = "docs@example.com", status: str = "open") -> ItemState:
    return ItemState(key=key, title=key.title(), role="docs", owner=owner, due=due, status=status)  # type: ignore[arg-type]


def gate(status: GateStatus = GateStatus.PENDING, **changes: Any) -> GateState:
    fields: dict[str, Any] = {
        "key": "go-no-go", "title": "Go / no-go", "approvers": ["vp@example.com", "legal@example.com"],
        "policy": "all", "required": 2, "status": status,
    }  # fmt: skip
    if status != GateStatus.PENDING:
        fields |= {"opened_at": LAUNCH_AT - timedelta(days=3), "expires_at": LAUNCH_AT + timedelta(days=7)}
    return GateState(**fields | changes)


def launch(
    items: list[ItemState] | None = None,
    gates: list[GateState] | None = None,
    steps: dict[str, StepStatus] | None = None,
    plan: bool = True,
    **changes: Any,
) -> ProcessView:
    """A launch on 2026-12-15 (09:00 UTC), its gate opening three days before, a retrospective a week after."""
    states = {"kickoff": StepStatus.DONE, "checklist": StepStatus.ACTIVE} | (steps or {})
    moments = [
        PlannedMoment(at=LAUNCH_AT - timedelta(days=3), what="the go / no-go decision opens", step="go-no-go"),
        PlannedMoment(at=LAUNCH_AT, what="launch day", step="launch-day"),
        PlannedMoment(at=LAUNCH_AT + timedelta(days=7), what="the retrospective starts", step="launch-day"),
    ]
    fields: dict[str, Any] = {
        "id": "launch-acme-2026-12-15", "kind": "launch", "title": "Launch: Acme on 2026-12-15",
        "status": ProcessStatus.RUNNING, "owner": "pm@example.com", "params": {"launch_date": "2026-12-15"},
        "steps": [StepView(key=key, title=key, status=states.get(key, StepStatus.PENDING)) for key in STEPS],
        "items": items or [], "gates": gates if gates is not None else [gate()], "plan": moments if plan else [],
    }  # fmt: skip
    return ProcessView(**fields | changes)


# ---- overdue ----------------------------------------------------------------------------------------------------


def test_an_item_is_overdue_once_its_day_has_passed() -> None:
    assert is_overdue(TODAY - timedelta(days=1), TODAY)
    assert not is_overdue(TODAY, TODAY)  # due today is not late yet
    assert not is_overdue(TODAY + timedelta(days=1), TODAY)


def test_only_open_items_of_a_running_process_are_overdue() -> None:
    items = [
        item("late", TODAY - timedelta(days=2)),
        item("done-late", TODAY - timedelta(days=2), status="done"),
        item("dropped", TODAY - timedelta(days=2), status="wont_do"),
        item("today", TODAY),
    ]

    assert [i.key for i in overdue_items(launch(items), TODAY)] == ["late"]
    assert overdue_items(launch(items, status=ProcessStatus.CANCELLED), TODAY) == []


# ---- when a decision is due -----------------------------------------------------------------------------------


def test_a_launch_decision_is_due_on_launch_day_not_at_the_links_expiry() -> None:
    opened = gate(GateStatus.OPEN)

    assert decision_due(launch(gates=[opened]), opened) == LAUNCH_AT
    assert opened.expires_at == LAUNCH_AT + timedelta(days=7)  # what the list used to show


def test_without_a_plan_launch_day_comes_from_the_parameters_at_the_gates_hour() -> None:
    opened = gate(GateStatus.OPEN)

    assert decision_due(launch(gates=[opened], plan=False), opened) == LAUNCH_AT


def test_a_gate_that_expires_before_the_go_ahead_is_due_at_its_expiry() -> None:
    early = gate(GateStatus.OPEN, expires_at=LAUNCH_AT - timedelta(days=1))

    assert decision_due(launch(gates=[early]), early) == LAUNCH_AT - timedelta(days=1)


def test_a_message_is_due_for_decision_by_its_send_time_and_a_post_mortem_by_its_expiry() -> None:
    send_at = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
    review = gate(GateStatus.OPEN, key="review", title="Review")
    message = launch(gates=[review], kind="comms", plan=False, params={"send_at": send_at.isoformat()})
    postmortem = launch(gates=[review], kind="postmortem", plan=False, params={})

    assert decision_due(message, review) == send_at
    assert decision_due(postmortem, review) == review.expires_at
    assert decision_due(postmortem, gate()) is None  # not open: no expiry yet


# ---- who it waits on --------------------------------------------------------------------------------------------


def test_it_waits_on_the_approvers_still_to_decide_then_the_most_overdue_owners() -> None:
    vp_approved = ApprovalRecord(gate="go-no-go", approver="vp@example.com", decision=Decision.APPROVE, at=NOW)
    items = [
        item("docs", TODAY - timedelta(days=3)),
        item("pricing", TODAY + timedelta(days=3)),
        item("support", TODAY - timedelta(days=1), owner="support@example.com"),
        item("faq", TODAY - timedelta(days=1), owner="support@example.com"),
        item("legal", TODAY - timedelta(days=1), owner="legal@example.com", status="done"),
    ]
    view = launch(items, gates=[gate(GateStatus.OPEN, decisions=[vp_approved])])

    waiting = waiting_on(view, TODAY)

    assert [(w.person, w.decisions, w.open_items, w.overdue_items) for w in waiting] == [
        ("legal@example.com", ["Go / no-go"], 0, 0),
        ("support@example.com", [], 2, 2),
        ("docs@example.com", [], 2, 1),
    ]
    assert waiting[1].why == "2 open items, 2 overdue"
    assert waiting[0].why == "a decision on Go / no-go"
    assert waiting_on(launch(items, status=ProcessStatus.COMPLETED), TODAY) == []


# ---- what happens next ----------------------------------------------------------------------------------------


def test_next_is_the_earliest_of_an_item_falling_due_and_the_plan() -> None:
    soon = launch([item("docs", TODAY + timedelta(days=2)), item("faq", TODAY + timedelta(days=2))])
    later = launch([item("docs", TODAY + timedelta(days=20))])

    first = next_up(soon, NOW)
    opening = next_up(later, NOW)

    assert first is not None and (first.what, first.on, first.at) == ("2 items due", TODAY + timedelta(days=2), None)
    assert opening is not None
    assert (opening.what, opening.at) == ("the go / no-go decision opens", LAUNCH_AT - timedelta(days=3))


def test_once_the_gate_has_opened_next_is_its_decision_then_its_expiry() -> None:
    opened = launch(gates=[gate(GateStatus.OPEN)], steps={"go-no-go": StepStatus.ACTIVE})

    due = next_up(opened, NOW)
    on_hold = next_up(opened, LAUNCH_AT + timedelta(hours=1))

    assert due is not None and (due.what, due.at, due.step) == ("Go / no-go: decision due", LAUNCH_AT, "go-no-go")
    assert on_hold is not None and (on_hold.what, on_hold.at) == (
        "Go / no-go: the gate expires",
        LAUNCH_AT + timedelta(days=7),
    )


def test_a_gate_opened_early_is_not_still_to_open() -> None:
    early = gate(GateStatus.APPROVED)
    approved = launch(gates=[early], steps={"checklist": StepStatus.DONE, "go-no-go": StepStatus.DONE})

    upcoming = next_up(approved, NOW)

    assert upcoming is not None and (upcoming.what, upcoming.at) == ("launch day", LAUNCH_AT)


def test_a_moment_of_a_step_that_ended_or_passed_is_not_next_and_an_ended_process_has_none() -> None:
    launched = {step: StepStatus.DONE for step in STEPS}

    assert next_up(launch(steps=launched, gates=[gate(GateStatus.APPROVED)]), NOW) is None
    assert next_up(launch(), LAUNCH_AT + timedelta(days=8)) is None
    assert next_up(launch(status=ProcessStatus.REJECTED), NOW) is None


# ---- someone's work ---------------------------------------------------------------------------------------------


def test_someones_work_is_their_open_items_and_the_decisions_waiting_on_them_overdue_first() -> None:
    items = [
        item("docs", TODAY + timedelta(days=1)),
        item("faq", TODAY - timedelta(days=1)),
        item("done", TODAY - timedelta(days=5), status="done"),
        item("support", TODAY - timedelta(days=9), owner="support@example.com"),
    ]
    view = launch(items, gates=[gate(GateStatus.OPEN, approvers=["docs@example.com"], required=1)])

    entries = in_order(work_of("docs@example.com", view, TODAY, base_url="https://signoff.test"))

    assert [(e.what, e.key, e.overdue) for e in entries] == [
        ("item", "faq", True),
        ("item", "docs", False),
        ("decision", "go-no-go", False),
    ]
    assert (entries[2].due, entries[2].due_at) == (LAUNCH_AT.date(), LAUNCH_AT)
    assert entries[0].process.link == "https://signoff.test/processes/launch-acme-2026-12-15"
    assert work_of("docs@example.com", launch(items, status=ProcessStatus.CANCELLED), TODAY) == []


def test_a_reviewer_reviews_a_message() -> None:
    review = gate(GateStatus.OPEN, key="review", title="Review", approvers=["cs@example.com"], required=1)
    message = launch(gates=[review], kind="comms", plan=False, params={})

    (entry,) = work_of("cs@example.com", message, TODAY)

    assert (entry.what, entry.key, entry.due_at) == ("review", "review", review.expires_at)
