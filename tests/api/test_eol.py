"""An end of life through HTTP: dates checked in order, its notice as a comms process, cancel."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.api.helpers import audit, eventually, view

OWNER, VP = "pm@example.com", "vp@example.com"


def eol_params(today: date, **changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "product": f"Legacy {uuid.uuid4().hex[:6]}",
        "announce_date": (today + timedelta(days=10)).isoformat(),
        "end_of_sale": (today + timedelta(days=40)).isoformat(),
        "end_of_support": (today + timedelta(days=70)).isoformat(),
        "shutdown_date": (today + timedelta(days=160)).isoformat(),
        "customers": ["ana@customer.example"],
        "migration_guide": "https://docs.example.com/migrate",
        "approvers": [VP],
        "owner": OWNER,
    }
    return params | changes


async def test_start_files_its_tasks_and_puts_its_notice_up_for_review(
    app_client: httpx.AsyncClient, today: date
) -> None:
    response = await app_client.post("/api/processes", json={"kind": "eol", "params": eol_params(today)})

    assert response.status_code == 201, response.text
    started = response.json()
    assert started["title"].startswith("End of life: Legacy ")
    assert [s["key"] for s in started["steps"]][:3] == ["kickoff", "notice", "end-of-sale"]

    async def notice() -> str | None:
        return (await view(app_client, started["id"])).get("links", {}).get("notice-1")

    notice_id = await eventually(notice, "the notice to start")

    async def in_review() -> dict[str, Any] | None:
        events = await audit(app_client, notice_id)
        asked = [e for e in events if e["action"] == "message_sent"]  # the approver's email and chat request
        return await view(app_client, notice_id) if len(asked) == 2 else None

    child = await eventually(in_review, "the notice's review to be asked")
    assert child["kind"] == "comms" and child["status"] == "waiting"
    assert (
        child["content"]["subject"]
        == f"{started['params']['product']} will be retired on {started['params']['shutdown_date']}"
    )
    assert child["gates"][0]["approvers"] == [VP]

    cancelled = await app_client.post(f"/api/processes/{started['id']}/cancel", json={"reason": "Kept alive."})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    async def notice_cancelled() -> bool:
        return (await view(app_client, notice_id))["status"] == "cancelled"

    await eventually(notice_cancelled, "the notice to be cancelled with it")


@pytest.mark.parametrize(
    ("field", "days", "says"),
    [
        ("end_of_sale", 5, "is before announce_date"),
        ("end_of_support", 20, "is before end_of_sale"),
        ("shutdown_date", 60, "is before end_of_support"),
    ],
)
async def test_dates_out_of_order_are_422_naming_the_date(
    app_client: httpx.AsyncClient, today: date, field: str, days: int, says: str
) -> None:
    params = eol_params(today, **{field: (today + timedelta(days=days)).isoformat()})

    response = await app_client.post("/api/processes", json={"kind": "eol", "params": params})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["params", field] and says in error["msg"]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"announce_date": "2001-01-01", "end_of_sale": "2001-02-01"}, ["params", "announce_date"], "in the past"),
        ({"approvers": [OWNER]}, ["params", "approvers"], "cannot approve their own"),
        ({"migration_guide": "not a url"}, ["params", "migration_guide"], "URL"),
        ({"customers": []}, ["params", "customers"], "at least 1"),
        ({"approvers": [VP, VP]}, ["params", "approvers"], "listed twice"),
        ({"product": "x" * 151}, ["params", "product"], "at most 150"),
    ],
    ids=["past", "owner-approves", "guide", "no-customers", "twice", "long-product"],
)
async def test_other_bad_parameters_are_422(
    app_client: httpx.AsyncClient, today: date, changes: dict[str, Any], field: list[str], says: str
) -> None:
    response = await app_client.post("/api/processes", json={"kind": "eol", "params": eol_params(today, **changes)})

    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["detail"] if e["loc"] == field]
    assert says in error["msg"]


async def test_an_approver_replaced_on_an_end_of_life_reviews_its_notice_in_their_place(
    app_client: httpx.AsyncClient, today: date
) -> None:
    """A review's finding: the end of life's approvers also review its customer notice, given at the notice's
    start; replacing one changed only the end of life's own gate, and the old approver still decided the notice."""
    legal, counsel = "legal@example.com", "counsel@example.com"
    response = await app_client.post(
        "/api/processes", json={"kind": "eol", "params": eol_params(today, approvers=[VP, legal])}
    )
    started = response.json()

    async def in_review() -> str | None:
        notice_id = (await view(app_client, started["id"])).get("links", {}).get("notice-1")
        if notice_id is None:
            return None
        return notice_id if (await view(app_client, notice_id))["gates"][0]["status"] == "open" else None

    notice_id = await eventually(in_review, "the notice's review to open")
    edited = await app_client.post(
        f"/api/processes/{started['id']}/edits", json={"approvers": {"replace": {legal: counsel}}}
    )

    async def followed() -> dict[str, Any] | None:
        notice = await view(app_client, notice_id)
        return notice if notice["gates"][0]["approvers"] == [VP, counsel] else None

    async def edited_by(pid: str) -> list[str] | None:  # (the trail's `edited` follows the change, beside it)
        return [e["actor"] for e in await audit(app_client, pid) if e["action"] == "edited"] or None

    notice = await eventually(followed, "the notice's reviewers to follow")  # (passed on beside the story)
    by = await eventually(lambda: edited_by(started["id"]), "the end of life's edit in its trail")
    in_notice = await eventually(lambda: edited_by(notice_id), "the notice's edit in its trail")
    assert edited.status_code == 200, edited.text
    said = [c["sentence"] for c in edited.json()["changes"]]
    assert (
        f"the customer notice {notice_id} is passed the change: its reviewers follow while its review is open "
        "(its own trail says)" in said
    )
    assert [r["email"] for r in notice["params"]["reviewers"]] == [VP, counsel]
    assert len(by) == 1 and in_notice == by, "the edit's person, in the notice's trail"
    assert (await view(app_client, started["id"]))["params"]["approvers"] == [VP, counsel]
