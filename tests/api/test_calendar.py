"""The calendar (GET /api/calendar, /calendar) and the warning a launch gets when it lands on a day with another
launch that involves the same people."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.api.helpers import eventually, launch_params, start, wait_until_idle


async def month_of(client: httpx.AsyncClient, day: date, **filters: str) -> dict[str, Any]:
    response = await client.get("/api/calendar", params={"month": f"{day:%Y-%m}", **filters})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_launch_on_a_day_shared_with_the_same_people_is_warned_and_its_owner_told(
    app_client: httpx.AsyncClient, today: date
) -> None:
    day = today + timedelta(days=30)
    first = await start(app_client, launch_params(day, approvers=["vp@example.com"]))
    await wait_until_idle(app_client, first["id"])
    assert first["warnings"] == []

    second = await start(app_client, launch_params(day, approvers=["vp@example.com", "cfo@example.com"]))
    [warning] = second["warnings"]
    assert first["id"] in warning and f"is also on {day}" in warning and "vp@example.com" in warning

    async def told() -> list[dict[str, Any]] | None:
        outbox = (await app_client.get("/api/outbox", params={"process": second["id"]})).json()
        return [m for m in outbox if m["subject"].endswith("other launches that day share its people")] or None

    [email] = await eventually(told, "the owner's warning")
    assert email["to"] == [second["owner"]] and first["id"] in email["body"]
    live = (await app_client.get(f"/api/processes/{second['id']}")).json()
    assert live["warnings"] == second["warnings"]
    page = await app_client.get(f"/processes/{second['id']}")
    assert 'id="warnings"' in page.text and first["id"] in page.text


async def test_launches_apart_in_day_or_people_are_not_warned(app_client: httpx.AsyncClient, today: date) -> None:
    day = today + timedelta(days=30)
    first = await start(app_client, launch_params(day))
    await wait_until_idle(app_client, first["id"])
    assert (await start(app_client, launch_params(day + timedelta(days=1))))["warnings"] == []
    strangers = {
        "approvers": ["a@example.org"], "owners": {"docs": "b@example.org", "support": "c@example.org"},
        "stakeholders": ["d@example.org"],
    }  # fmt: skip
    apart = await start(app_client, launch_params(day, owner="e@example.org", **strangers))
    assert apart["warnings"] == []
    others = {
        "approvers": ["f@example.net"], "owners": {"docs": "g@example.net", "support": "h@example.net"},
        "stakeholders": ["i@example.net"],
    }  # fmt: skip
    same_owner = await start(app_client, launch_params(day, **others))  # the owner alone is in both
    [warning] = same_owner["warnings"]
    assert first["id"] in warning and warning.endswith("with pm@example.com")


async def test_the_calendar_lays_out_each_launchs_gate_and_launch_day(
    app_client: httpx.AsyncClient, today: date
) -> None:
    day = today + timedelta(days=45)
    launched = await start(app_client, launch_params(day))
    await wait_until_idle(app_client, launched["id"])

    async def listed() -> list[dict[str, Any]] | None:
        entries = (await month_of(app_client, day))["entries"]
        return [e for e in entries if e["process"] == launched["id"]] or None

    entries = await eventually(listed, "the launch day on the calendar")
    assert [(e["at"][:10], e["what"]) for e in entries if e["what"] == "launch day"] == [
        (day.isoformat(), "launch day")
    ]
    assert all(e["kind"] == "launch" and e["title"] == launched["title"] for e in entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert (await month_of(app_client, day, kind="eol"))["entries"] == []
    after = (day.replace(day=1) + timedelta(days=40)).replace(day=1)
    assert not [
        e for e in (await month_of(app_client, after + timedelta(days=60)))["entries"] if e["process"] == launched["id"]
    ]

    page = await app_client.get("/calendar", params={"month": f"{day:%Y-%m}"})
    assert page.status_code == 200
    assert launched["title"] in page.text and f'id="d{day.isoformat()}"' in page.text
    assert 'rel="next"' in page.text and 'rel="prev"' in page.text


async def test_a_month_that_is_no_month_or_an_unknown_kind_is_refused(app_client: httpx.AsyncClient) -> None:
    for month in ("2026-13", "December", "2026-1", "0000-01", "0001-01", "1899-12", "3000-01", "9999-12", "٢٠٢٦-٠١"):
        response = await app_client.get("/api/calendar", params={"month": month})
        page = await app_client.get("/calendar", params={"month": month})
        assert (response.status_code, page.status_code) == (422, 422), (month, response.text)
        assert "YYYY-MM" in response.text and "1900 to 2999" in response.text
    for month, before, after in (("1900-01", "1899-12", "1900-02"), ("2999-12", "2999-11", "3000-01")):
        edge = await app_client.get("/api/calendar", params={"month": month})
        assert edge.status_code == 200 and edge.json()["month"] == month, edge.text
        edge_page = await app_client.get("/calendar", params={"month": month})
        assert (
            edge_page.status_code == 200 and f"month={before}" in edge_page.text and f"month={after}" in edge_page.text
        )
    unknown = await app_client.get("/api/calendar", params={"kind": "bogus"})
    assert unknown.status_code == 422 and "launch" in unknown.text


async def test_a_launch_moved_onto_a_day_shared_with_the_same_people_is_warned_and_its_owner_told(
    app_client: httpx.AsyncClient, today: date
) -> None:
    day = today + timedelta(days=30)
    first = await start(app_client, launch_params(day, approvers=["vp@example.com"]))
    moving = await start(app_client, launch_params(day + timedelta(days=5), approvers=["vp@example.com"]))
    await wait_until_idle(app_client, first["id"])
    await wait_until_idle(app_client, moving["id"])
    assert moving["warnings"] == []

    moved = await app_client.post(f"/api/processes/{moving['id']}/edits", json={"launch_date": day.isoformat()})

    assert moved.status_code == 200, moved.text
    [warning] = moved.json()["view"]["warnings"]
    assert first["id"] in warning and f"is also on {day}" in warning

    async def told() -> list[dict[str, Any]] | None:
        outbox = (await app_client.get("/api/outbox", params={"process": moving["id"]})).json()
        return [m for m in outbox if m["subject"].endswith("other launches that day share its people")] or None

    [email] = await eventually(told, "the owner's warning")
    assert email["to"] == [moving["owner"]] and first["id"] in email["body"] and str(day) in email["subject"]
