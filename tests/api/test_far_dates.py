"""Dates a person gives a process lie within the horizon (`domain.horizon`): a start, an edit over the API and the
page's form refuse one further off with 422 naming the field, before any process sees it; and an edit's send time
without an offset is read in the process's time zone, as a start's is."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.api.helpers import launch_params, start, view, wait_until_idle
from tests.api.test_comms import comms_params, review_links, start_comms
from tests.api.test_page_actions import came_back, post_form
from tests.api.test_postmortem import SRE, start_postmortem


async def test_a_start_far_in_the_future_is_422_naming_the_field(app_client: httpx.AsyncClient) -> None:
    launch = await app_client.post(
        "/api/processes", json={"kind": "launch", "params": launch_params(date(9999, 12, 25))}
    )
    message = await app_client.post(
        "/api/processes",
        json={"kind": "comms", "params": comms_params(send_at="9999-12-31T23:59:59-12:00")},
    )
    preview = await app_client.post("/api/plans", json={"kind": "launch", "params": launch_params(date(9999, 12, 25))})

    assert launch.status_code == 422, launch.text
    [error] = launch.json()["detail"]
    assert error["loc"] == ["params", "launch_date"]
    assert error["msg"].startswith("9999-12-25 is more than 10 years away; give a date no later than ")
    assert message.status_code == 422, message.text
    assert [e["loc"] for e in message.json()["detail"]] == [["params", "send_at"]]
    assert preview.status_code == 422, preview.text
    assert "launch_date" in preview.text and "more than 10 years away" in preview.text


async def test_an_edit_far_in_the_future_is_422_and_the_launch_goes_on(
    app_client: httpx.AsyncClient, today: date
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)

    api = await app_client.post(f"/api/processes/{pid}/edits", json={"launch_date": "9999-12-25"})
    form = await post_form(app_client, f"/processes/{pid}/edits", {"launch_date": "9999-12-25"})
    cancelled = await app_client.post(f"/api/processes/{pid}/cancel", json={"reason": "tidy up"})

    assert api.status_code == 422, api.text
    assert api.json()["detail"].startswith("launch_date: 9999-12-25 is more than 10 years away; give a date no later")
    assert form.status_code == 422 and "9999-12-25 is more than 10 years away" in form.text
    assert cancelled.status_code == 200, cancelled.text  # the process was never wedged


async def test_an_edits_send_time_without_an_offset_is_read_in_the_processs_zone(
    app_client: httpx.AsyncClient, now: datetime
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    first = (now + timedelta(days=20)).astimezone(berlin).replace(hour=9, minute=0, second=0, microsecond=0)
    pid = (await start_comms(app_client, send_at=first.isoformat(), time_zone="Europe/Berlin"))["id"]
    await review_links(app_client, pid)  # the review is under way: the message takes edits
    later = first + timedelta(days=3)
    latest = first + timedelta(days=5)

    api = await app_client.post(f"/api/processes/{pid}/edits", json={"send_at": later.strftime("%Y-%m-%dT%H:%M")})
    form = await post_form(app_client, f"/processes/{pid}/edits", {"send_at": latest.strftime("%Y-%m-%dT%H:%M")})

    assert api.status_code == 200, api.text
    [change] = api.json()["changes"]
    assert datetime.fromisoformat(change["after"]) == later
    await came_back(app_client, form, pid)
    assert datetime.fromisoformat((await view(app_client, pid))["params"]["send_at"]) == latest


async def test_an_action_item_due_far_in_the_future_is_422_naming_it(
    app_client: httpx.AsyncClient, now: datetime
) -> None:
    pid = (await start_postmortem(app_client, now))["id"]
    items = [{"title": "Add an alert", "owner": SRE}, {"title": "Fix the runbook", "owner": SRE, "due": "9999-12-25"}]

    answer = await app_client.post(f"/api/processes/{pid}/action-items", json={"items": items})

    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("items.1.due: 9999-12-25 is more than 10 years away")
    assert not [i for i in (await view(app_client, pid))["items"] if i["title"] == "Add an alert"], "none filed"
