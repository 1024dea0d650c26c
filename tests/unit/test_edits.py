"""The pure rules of an edit (`domain.edits`): who decides after it, whether its gate's policy can still be met,
and what an edit must name."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from domain.edits import ApproverEdits, EditChanges, days_moved, edited_approvers, outcome_with
from domain.enums import Decision, GateStatus
from domain.errors import Conflict, InvalidField
from domain.views import ApprovalRecord

A, B, C, D = "a@x.com", "b@x.com", "c@x.com", "d@x.com"
TITLE = "Go / no-go"


def after(current: list[str], policy: object = "all", **edits: object) -> list[str]:
    return edited_approvers(current, ApproverEdits.model_validate(edits), policy, {}, TITLE)  # type: ignore[arg-type]


def said(record_for: str, decision: Decision, by: str | None = None) -> ApprovalRecord:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    on_behalf = {"on_behalf_of": record_for} if by else {}
    return ApprovalRecord(gate="go-no-go", approver=by or record_for, decision=decision, at=at, **on_behalf)


def test_a_replacement_takes_the_old_ones_place_and_additions_come_last() -> None:
    assert after([A, B], replace={B: C}) == [A, C]
    assert after([A, B], add=[C], remove=[A]) == [B, C]
    assert after([A, B], add="c@x.com, D@x.com") == [A, B, C, D], "comma-separated and lower-cased, as forms send"


@pytest.mark.parametrize(
    ("edits", "field", "words"),
    [
        ({"remove": [C]}, "approvers.remove", "c@x.com is not an approver of Go / no-go"),
        ({"replace": {C: D}}, "approvers.replace", "c@x.com is not an approver"),
        ({"replace": {A: A}}, "approvers.replace", "cannot replace themselves"),
        ({"replace": {A: B}}, "approvers.replace", "b@x.com is an approver of Go / no-go already"),
        ({"add": [B]}, "approvers.add", "already"),
        ({"remove": [A, B]}, "approvers.remove", "needs at least one approver"),
    ],
)
def test_a_change_that_names_the_wrong_people_is_refused_naming_the_field(
    edits: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        after([A, B], **edits)
    assert refused.value.field == field and words in refused.value.reason


def test_someone_who_may_not_decide_is_refused() -> None:
    with pytest.raises(InvalidField, match="owns it"):
        edited_approvers([A], ApproverEdits(add=[D]), "all", {D: "d@x.com owns it"}, TITLE)


def test_a_quorum_the_approvers_left_cannot_give_is_a_conflict_with_a_sentence() -> None:
    assert after([A, B, C], policy=2, remove=[C]) == [A, B]
    with pytest.raises(Conflict, match="needs 2 approvals, which 1 approver cannot give"):
        after([A, B], policy=2, remove=[B])


def test_an_open_rounds_outcome_counts_those_left_and_refuses_a_rejection() -> None:
    approved = [said(A, Decision.APPROVE), said(B, Decision.APPROVE, by=D)]
    assert outcome_with("all", [A, B], approved, TITLE) == GateStatus.APPROVED, "a delegate's approval is B's"
    assert outcome_with("all", [A, C], approved, TITLE) == GateStatus.OPEN, "B left: their approval no longer counts"
    with pytest.raises(Conflict, match=r"could no longer be approved \(c@x.com did not approve\)"):
        outcome_with("all", [A, C], [said(C, Decision.REJECT)], TITLE)


def test_an_edit_names_something_to_change() -> None:
    with pytest.raises(ValidationError, match="nothing to change"):
        EditChanges.model_validate({"reason": "tidy"})
    with pytest.raises(ValidationError, match="nothing to change"):
        EditChanges.model_validate({"approvers": {}})
    with pytest.raises(ValidationError, match="extra"):
        EditChanges.model_validate({"launch_date": "2026-12-22", "date": "2026-12-22"})
    assert EditChanges.model_validate({"owners": {"docs": "W@x.com"}}).named() == {"owners"}
    assert EditChanges(launch_date=date(2026, 12, 22)).named() == {"launch_date"}


def test_days_moved_in_words() -> None:
    assert days_moved(date(2026, 12, 15), date(2026, 12, 22)) == "7 days later"
    assert days_moved(date(2026, 12, 15), date(2026, 12, 14)) == "1 day earlier"
