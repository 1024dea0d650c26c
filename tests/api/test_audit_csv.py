"""The audit trail as CSV: what a spreadsheet would run as a formula arrives as text (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import httpx

from domain.audit import AUDIT_CSV_COLUMNS, FORMULA_STARTS
from tests.api.helpers import (
    approval_links,
    forms_of,
    launch_params,
    path_of,
    start,
    trail_written,
    wait_for_action,
)

FORMULA = '=HYPERLINK("http://evil.example","Click to approve")'
APPROVER = "=2+3@example.com"
"""A valid address (``=`` and ``+`` may start one) that a spreadsheet would take for a formula."""


async def test_an_approvers_address_and_comment_that_are_formulas_reach_the_csv_as_text(
    app_client: httpx.AsyncClient, today: date
) -> None:
    pid = (await start(app_client, launch_params(today, approvers=[APPROVER, "legal@example.com"])))["id"]
    link = path_of((await approval_links(app_client, pid))[APPROVER])
    page = await app_client.get(link)
    form = forms_of(page.text)[0]  # the decision (the second hands it on)
    [token] = [f["value"] for f in form["fields"] if f["name"] == "form_token"]
    decided = await app_client.post(link, data={"decision": "reject", "comment": FORMULA, "form_token": token})
    assert decided.status_code == 200, decided.text
    await wait_for_action(app_client, pid, "decision")
    await trail_written(app_client, pid)

    response = await app_client.get(f"/api/processes/{pid}/audit", params={"format": "csv"})

    assert response.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header == AUDIT_CSV_COLUMNS
    assert [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)] == []
    [decision] = [dict(zip(header, row, strict=True)) for row in rows if row[header.index("action")] == "decision"]
    assert decision["actor"].startswith("'=") and APPROVER in decision["actor"]
    assert json.loads(decision["details"])["comment"] == FORMULA  # the comment itself is kept whole, inside JSON
