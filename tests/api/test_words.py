"""Words a person would use, and input refused all at once with the choices (issue #14, item 6), through HTTP."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx

from domain.enums import Decision
from domain.updates import DecisionInput
from tests.api.conftest import bearer
from tests.api.helpers import audit, eventually, launch_params, text_of, view, wait_for_action
from tests.api.test_comms import comms_params
from tests.api.test_eol import VP, eol_params
from tests.api.test_postmortem import IC, SRE, kicked_off, start_postmortem
from tests.conftest import Stack
from workflows.comms import CommsWorkflow


async def test_a_start_names_every_problem_at_once(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30), approvers=["pm@example.com"], owners={"dcos": "d@example.com"})

    response = await app_client.post("/api/processes", json={"kind": "launch", "params": params})

    assert response.status_code == 422, response.text
    detail = {tuple(error["loc"]): error["msg"] for error in response.json()["detail"]}
    assert set(detail) == {("params", "approvers"), ("params", "owners")}
    assert "cannot approve their own launch" in detail[("params", "approvers")]
    assert detail[("params", "owners")].startswith("no role 'dcos' in template 'launch' (did you mean docs?)")
    assert "its roles are docs, engineering, finance, legal, marketing" in detail[("params", "owners")]
    assert (await app_client.get("/api/processes")).json() == []


async def test_a_field_that_does_not_read_hides_no_other_problem(app_client: httpx.AsyncClient, today: date) -> None:
    yesterday = today - timedelta(days=1)
    params = launch_params(
        yesterday, approvers=["vp@example.com", "legal at example.com"], owners={"dcos": "d@example.com"}
    )

    response = await app_client.post("/api/processes", json={"kind": "launch", "params": params})

    assert response.status_code == 422, response.text
    detail = {tuple(error["loc"]): error["msg"] for error in response.json()["detail"]}
    assert set(detail) == {("params", "approvers", 1), ("params", "launch_date"), ("params", "owners")}
    assert "not a valid email address" in detail[("params", "approvers", 1)]
    assert detail[("params", "launch_date")] == f"{yesterday} is in the past (today is {today})"
    assert detail[("params", "owners")].startswith("no role 'dcos' in template 'launch' (did you mean docs?)")
    own = launch_params(today + timedelta(days=30), approvers=["pm@example.com"], stakeholders=["all at example.com"])
    response = await app_client.post("/api/processes", json={"kind": "launch", "params": own})
    assert {tuple(error["loc"]) for error in response.json()["detail"]} == {
        ("params", "stakeholders", 0),
        ("params", "approvers"),  # the owner approving: a rule across fields that did read
    }
    assert (await app_client.get("/api/processes")).json() == []


async def test_an_eol_with_its_milestones_too_close_is_refused_naming_the_dates(
    app_client: httpx.AsyncClient, today: date
) -> None:
    same_day = today.isoformat()
    params = eol_params(
        today, announce_date=same_day, end_of_sale=same_day, end_of_support=same_day, shutdown_date=same_day
    )

    response = await app_client.post("/api/processes", json={"kind": "eol", "params": params})

    assert response.status_code == 422, response.text
    detail = {error["loc"][1]: error["msg"] for error in response.json()["detail"]}
    assert set(detail) == {"end_of_sale", "end_of_support", "shutdown_date"}
    assert detail["end_of_sale"] == (
        f"{same_day} is the same day as announce_date ({same_day}); template 'eol' gives customers at least "
        f"30 days between them: {today + timedelta(days=30)} or later"
    )
    close = eol_params(today, end_of_sale=(today + timedelta(days=15)).isoformat())  # announced in 10 days
    [error] = (await app_client.post("/api/processes", json={"kind": "eol", "params": close})).json()["detail"]
    assert error["loc"] == ["params", "end_of_sale"] and "is only 5 days after announce_date" in error["msg"]


async def test_an_eol_owners_role_not_in_its_template_is_refused(app_client: httpx.AsyncClient, today: date) -> None:
    params = eol_params(today, owners={"enginering": "eng@example.com"})

    response = await app_client.post("/api/processes", json={"kind": "eol", "params": params})

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["params", "owners"]
    assert "no role 'enginering' in template 'eol' (did you mean engineering?)" in error["msg"]


async def test_the_start_form_shows_every_problem_after_one_submit(app_client: httpx.AsyncClient, today: date) -> None:
    form = {
        "kind": "launch",
        "product": "All at once",
        "launch_date": (today - timedelta(days=1)).isoformat(),
        "owner": "pm@example.com",
        "approvers": "pm@example.com",
        "owners": "docs=docs@example.com\nsupport",  # a line it cannot read
    }

    response = await app_client.post("/start", data=form)

    assert response.status_code == 422
    beside = dict(re.findall(r'id="e-([a-z_]+)">([^<]*)<', response.text))
    assert beside["owners"] == "line 2: write it as name=email"
    assert "is in the past" in beside["launch_date"]
    assert "cannot approve their own launch" in beside["approvers"]
    assert "Some fields need another look" in text_of(response.text)
    assert all("all-at-once" not in row["id"] for row in (await app_client.get("/api/processes")).json())


async def test_the_start_form_shows_a_bad_address_a_typo_and_a_past_date_after_one_submit(
    app_client: httpx.AsyncClient, today: date
) -> None:
    form = {
        "kind": "launch",
        "product": "Three at once",
        "launch_date": (today - timedelta(days=1)).isoformat(),
        "owner": "pm@example.com",
        "approvers": "vp@example.com\nlegal at example.com",
        "owners": "dcos=docs@example.com",
    }

    response = await app_client.post("/start", data=form)

    assert response.status_code == 422
    beside = dict(re.findall(r'id="e-([a-z_]+)">([^<]*)<', response.text))
    assert beside["approvers"].startswith("line 2: ") and "not a valid email address" in beside["approvers"]
    assert "is in the past" in beside["launch_date"]
    assert "no role &#39;dcos&#39; in template &#39;launch&#39;" in beside["owners"]
    assert all("three-at-once" not in row["id"] for row in (await app_client.get("/api/processes")).json())


async def test_the_list_refuses_a_filter_no_process_could_match(app_client: httpx.AsyncClient) -> None:
    status = await app_client.get("/", params={"status": "bogus"})
    kind = await app_client.get("/", params={"kind": "lunch"})

    assert status.status_code == 422
    assert "unknown status 'bogus'; known statuses: running, waiting, completed" in text_of(status.text)
    assert kind.status_code == 422
    assert "unknown process kind 'lunch'; known kinds: launch, comms, postmortem, eol" in text_of(kind.text)
    assert (await app_client.get("/", params={"status": "", "kind": ""})).status_code == 200, "'any' is no filter"


async def test_pages_say_states_in_words(app_client: httpx.AsyncClient, stack: Stack) -> None:
    response = await app_client.post("/api/processes", json={"kind": "comms", "params": comms_params()})
    pid = response.json()["id"]
    await wait_for_action(app_client, pid, "review_requested")
    handle = stack.client.get_workflow_handle(pid)
    await handle.execute_update(
        CommsWorkflow.decide,
        DecisionInput(gate="review", approver="cs@example.com", decision=Decision.CHANGES, comment="Say when."),
    )

    async def page() -> str | None:
        text = text_of((await app_client.get(f"/processes/{pid}")).text)
        return text if "changes requested" in text else None

    text = await eventually(page, "the page to show the request for changes")
    listing = text_of((await app_client.get("/")).text)

    assert "changes_requested" not in text and "Review changes requested" in text
    assert "cs@example.com changes requested Say when." in text
    assert "Review in progress" in text
    assert "to 2 recipients" in text
    assert re.search(r"Message: Maintenance \w+ comms · \S+ (running|waiting for decisions)", listing)


async def test_the_outbox_shows_chat_as_slack_shows_it(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (
        await app_client.post(
            "/api/processes", json={"kind": "launch", "params": launch_params(today + timedelta(days=30))}
        )
    ).json()["id"]

    async def kickoff_posted() -> str | None:
        page = (await app_client.get("/outbox", params={"process": pid})).text
        return page if ":rocket:" in page or "🚀" in page else None

    page = await eventually(kickoff_posted, "the kickoff's chat post")

    [post] = [chat for chat in re.findall(r'class="message chat">(.*?)</div>', page, re.DOTALL) if "Launch of" in chat]
    assert "🚀 Launch of <strong>Acme " in post and ":rocket:" not in post and "*Acme" not in post
    assert "12 checklist items are tracked in" in text_of(post)


async def test_action_items_take_jiras_priority_names(
    app_client: httpx.AsyncClient, stack: Stack, now: datetime
) -> None:
    pid = (await start_postmortem(app_client, now))["id"]
    await kicked_off(app_client, pid)
    items = [
        {"title": "Page the on-call sooner", "owner": SRE, "priority": "Highest"},
        {"title": "Runbook for the queue", "owner": SRE, "priority": "medium"},
        {"title": "Tidy the dashboards", "owner": SRE, "priority": "Lowest"},
    ]

    response = await app_client.post(
        f"/api/processes/{pid}/action-items", json={"items": items}, headers=bearer(stack, IC)
    )
    wrong = await app_client.post(
        f"/api/processes/{pid}/action-items",
        json={"items": [{"title": "x", "owner": SRE, "priority": "Urgent"}]},
        headers=bearer(stack, IC),
    )

    assert response.status_code == 201, response.text
    assert [item["priority"] for item in response.json()] == ["P1", "P2", "P3"]
    assert wrong.status_code == 422
    [error] = wrong.json()["detail"]
    assert "use P1, P2 or P3, or Jira's Highest, High, Medium, Low or Lowest" in error["msg"]


async def test_the_eol_page_counts_its_notice_as_the_notice_does(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    params = eol_params(
        today,
        announce_date=today.isoformat(),
        end_of_sale=(today + timedelta(days=30)).isoformat(),
        end_of_support=(today + timedelta(days=60)).isoformat(),
        shutdown_date=(today + timedelta(days=120)).isoformat(),
    )
    response = await app_client.post("/api/processes", json={"kind": "eol", "params": params})
    assert response.status_code == 201, response.text
    pid = response.json()["id"]

    async def notice() -> str | None:
        events = await audit(app_client, pid)
        started = [e for e in events if e["action"] == "notice_started"]
        return started[0]["details"]["process"] if started else None

    child = await eventually(notice, "the notice to start")
    await wait_for_action(app_client, child, "review_requested")
    await stack.client.get_workflow_handle(child).execute_update(
        CommsWorkflow.decide, DecisionInput(gate="review", approver=VP, decision=Decision.APPROVE)
    )
    announced = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=9, minutes=1)
    if (now := await stack.env.get_current_time()) < announced:
        await stack.env.sleep(announced - now)  # the notice goes out on the announce date, at 09:00 UTC
    await wait_for_action(app_client, pid, "notice_sent")

    text = text_of((await app_client.get(f"/processes/{pid}")).text)
    sent = (await view(app_client, child))["outcome"]

    assert sent == "sent to 1 of 1"
    assert "· sent to 1 of 1 customer ( the notice's own process )" in text, "as the notice's own process says"
    assert "0 recipients" not in text
