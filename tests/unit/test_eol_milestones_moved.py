"""An end of life's milestones moved by an edit: the checks (`domain.edits.milestones_moved`) and the CLI's body."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from config.templates import load_template
from domain.edits import milestones_moved
from domain.eol import EolParams
from domain.errors import InvalidField
from domain.templates import EolTemplate
from workers.cli_edit import edit_body

TODAY = date(2026, 12, 1)
DAY = timedelta(days=1)


def params(**days: int) -> EolParams:
    given = {"announce_date": 10, "end_of_sale": 40, "end_of_support": 70, "shutdown_date": 100} | days
    return EolParams.model_validate(
        {field: (TODAY + n * DAY).isoformat() for field, n in given.items()}
        | {"product": "Legacy", "customers": ["ana@customer.example"], "owner": "pm@example.com",
           "migration_guide": "https://docs.example.com/migrate", "approvers": ["vp@example.com"]}
    )  # fmt: skip


def template() -> EolTemplate:
    loaded = load_template("eol", "eol")
    assert isinstance(loaded, EolTemplate)
    return loaded


def test_a_shutdown_moved_later_says_so() -> None:
    [change] = milestones_moved(params(), {"shutdown_date": TODAY + 107 * DAY}, TODAY, template())

    assert (change.what, change.before, change.after) == ("shutdown_date", "2027-03-11", "2027-03-18")
    assert change.sentence == "shutdown date moves from 2027-03-11 to 2027-03-18 (7 days later)"


@pytest.mark.parametrize(
    ("moves", "field", "said"),
    [
        ({"end_of_sale": -1}, "end_of_sale", "is in the past"),
        ({"end_of_sale": 40}, "end_of_sale", "on 2027-01-10 already"),
        ({"end_of_sale": 75}, "end_of_sale", "is after end_of_support"),
        ({"shutdown_date": 65}, "shutdown_date", "is before end_of_support"),
        ({"shutdown_date": 90}, "shutdown_date", "at least 30 days"),
        ({"end_of_support": 45}, "end_of_support", "at least 30 days"),
    ],
)
def test_a_move_that_breaks_a_rule_names_the_field(moves: dict[str, int], field: str, said: str) -> None:
    with pytest.raises(InvalidField) as refused:
        milestones_moved(params(), {f: TODAY + n * DAY for f, n in moves.items()}, TODAY, template())

    assert refused.value.field == field and said in refused.value.reason


def test_a_gap_the_move_does_not_touch_is_not_its_to_refuse() -> None:
    close = params(end_of_sale=12)  # 2 days after the announcement: the template asks 30 (a start would refuse it)

    [change] = milestones_moved(close, {"shutdown_date": TODAY + 110 * DAY}, TODAY, template())

    assert change.what == "shutdown_date"


def test_the_cli_names_only_the_milestones_given() -> None:
    body = edit_body(None, None, [], [], [], [], "", milestones={"end_of_sale": None, "shutdown_date": "2027-03-18"})

    assert body == {"shutdown_date": "2027-03-18"}
