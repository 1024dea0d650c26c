"""Audit CSV cells that a spreadsheet would run as formulas are neutralised (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from domain.audit import AUDIT_CSV_COLUMNS, FORMULA_STARTS, audit_csv_row, csv_cell

FORMULA = '=HYPERLINK("http://evil","x")'


def stored(**changes: Any) -> dict[str, Any]:
    """A stored audit event in its JSON form."""
    event: dict[str, Any] = {
        "process_id": "launch-acme-2026-12-15",
        "seq": 7,
        "at": "2026-12-01T09:00:00Z",
        "actor": "vp@example.com",
        "channel": "link",
        "action": "decision",
        "step": "go-no-go",
        "status": "running",
        "details": {"decision": "approve", "comment": FORMULA},
        "prev_hash": "a" * 64,
        "hash": "b" * 64,
    }
    return event | changes


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_that_would_start_a_formula_gets_a_quote(start: str) -> None:
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", ["vp@example.com", "go-no-go", "", "'=already quoted", " =1+1", 7, None])
def test_other_cells_pass_as_they_are(value: object) -> None:
    assert csv_cell(value) == value


def test_every_cell_of_a_row_is_neutralised() -> None:
    row = audit_csv_row(stored(actor=FORMULA, step="-2+3", channel="@SUM(A1)", action="+cmd", status="\t=1"))
    cells = dict(zip(AUDIT_CSV_COLUMNS, row, strict=True))

    assert cells["actor"] == "'" + FORMULA
    assert (cells["step"], cells["channel"], cells["action"], cells["status"]) == (
        "'-2+3",
        "'@SUM(A1)",
        "'+cmd",
        "'\t=1",
    )
    assert cells["seq"] == 7  # a number stays a number
    assert cells["details"].startswith("{")  # a comment's formula sits inside the JSON, never at a cell's start


def test_a_formula_in_a_comment_or_actor_never_starts_a_cell_of_the_written_csv() -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(audit_csv_row(stored(actor=FORMULA)))

    [cells] = list(csv.reader(io.StringIO(buffer.getvalue())))

    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert cells[AUDIT_CSV_COLUMNS.index("actor")] == "'" + FORMULA
    assert json.loads(cells[AUDIT_CSV_COLUMNS.index("details")])["comment"] == FORMULA  # kept, as text
