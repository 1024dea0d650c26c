"""What a process with a step held for its owner says it waits on and what comes next (`domain.rules`)."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import GateStatus, ProcessStatus, StepStatus
from domain.rules import next_up, waiting_on
from domain.views import HeldStep
from tests.unit.test_late_and_next import LAUNCH_AT, NOW, TODAY, gate, item, launch


def held(until_days: int = 2) -> HeldStep:
    return HeldStep(
        step="go-no-go", title="Go / no-go", what="Go / no-go was rejected", why="legal@example.com: no",
        since=NOW, until=NOW + timedelta(days=until_days), actions=["rerun", "end"],
    )  # fmt: skip


def test_a_held_step_waits_on_the_owner_first() -> None:
    view = launch(
        items=[item("docs", TODAY - timedelta(days=1))], gates=[gate(GateStatus.REJECTED)], held=held(),
        steps={"go-no-go": StepStatus.FAILED},
    )  # fmt: skip

    [owner, docs] = waiting_on(view, TODAY)

    assert owner.person == "pm@example.com" and owner.held == "Go / no-go"
    assert owner.why == "their word on Go / no-go, which is held (re-run, skip or end)"
    assert docs.person == "docs@example.com" and docs.overdue_items == 1


def test_next_is_the_holds_end_when_nothing_comes_before_it() -> None:
    view = launch(gates=[gate(GateStatus.REJECTED)], held=held(2), steps={"go-no-go": StepStatus.FAILED})

    up = next_up(view, NOW)

    assert up is not None and up.what == "Go / no-go: ends without its owner's word"
    assert up.at == NOW + timedelta(days=2) and up.step == "go-no-go"
    later = launch(gates=[gate(GateStatus.REJECTED)], held=held(30), steps={"go-no-go": StepStatus.FAILED})
    assert (nxt := next_up(later, NOW)) is not None and nxt.at == LAUNCH_AT  # launch day comes first
    assert waiting_on(launch(held=held(), status=ProcessStatus.REJECTED), TODAY) == []
