"""What is late, who it waits on and what is next, through HTTP: the list's overdue count and filter, a process's
``waiting_on`` and ``next``, and someone's work (``GET /api/mine``, the page ``/mine``) with their own links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import httpx
import pytest

from api.auth import Authenticator
from api.service import Processes
from config.templates import load_template
from domain.access import Role
from integrations.people import People
from tests.api.conftest import bearer, client_of
from tests.api.helpers import (
    APPROVERS,
    OWNER,
    approval_links,
    eventually,
    launch_params,
    path_of,
    start,
    text_of,
    view,
    wait_until_idle,
)
from tests.api.test_comms import CS, review_links, start_comms
from tests.api.test_edits import latest_link
from tests.conftest import Stack

VP = APPROVERS[0]


@pytest.fixture
async def guarded(stack: Stack, today: date, now: datetime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the production rules on: each request is who its token says, or an outsider."""
    async with client_of(stack, today, now=now, auth=Authenticator(People(stack.store.engine))) as client:
        yield client


async def test_the_list_counts_overdue_items_and_filters_on_them(
    app_client: httpx.AsyncClient, stack: Stack, today: date, now: datetime
) -> None:
    late = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    on_time = (await start(app_client, launch_params(today + timedelta(days=60))))["id"]
    await wait_until_idle(app_client, late)
    await wait_until_idle(app_client, on_time)
    days = 12  # the app twelve days on: the items due 28 and 21 days before the first launch are late

    async with client_of(stack, today + timedelta(days=days), now=now + timedelta(days=days)) as later:
        rows = {row["id"]: row for row in (await later.get("/api/processes")).json()}
        overdue = (await later.get("/api/processes", params={"overdue": "true"})).json()
        page = (await later.get("/", params={"overdue": "true"})).text
        detail = await view(later, late)

    assert (rows[late]["overdue"], rows[on_time]["overdue"]) == (4, 0)
    assert [row["id"] for row in overdue] == [late]
    assert "4 overdue" in text_of(page) and late in page and on_time not in page
    assert detail["overdue"] == 4
    waiting = [(w["person"], w["open_items"], w["overdue_items"]) for w in detail["waiting_on"]]
    assert waiting == [(OWNER, 9, 4), ("docs@example.com", 2, 0), ("support@example.com", 1, 0)]
    assert detail["waiting_on"][0]["why"] == "9 open items, 4 overdue"
    assert (detail["next"]["what"], detail["next"]["on"]) == (
        "Product documentation due",
        (today + timedelta(days=20)).isoformat(),
    )
    assert (await app_client.get("/api/processes", params={"overdue": "true"})).json() == []  # not late yet


async def test_the_process_page_says_who_it_waits_on_and_what_is_next(
    app_client: httpx.AsyncClient, today: date
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)

    page = text_of((await app_client.get(f"/processes/{pid}")).text)

    assert "Waiting on" in page and "docs@example.com: 2 open items" in page
    assert f"Next Release plan and date check due · {today + timedelta(days=2)}" in page


async def test_a_decision_waits_on_its_approver_with_their_own_link_shown_to_them_alone(
    app_client: httpx.AsyncClient, guarded: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    launch_date = today + timedelta(days=2)  # the gate opens at once
    pid = (await start(app_client, launch_params(launch_date)))["id"]
    links = await approval_links(app_client, pid)
    vp, admin = bearer(stack, VP, Role.MEMBER), bearer(stack, "admin@example.com", Role.ADMIN)
    other = bearer(stack, APPROVERS[1], Role.MEMBER)

    own = await guarded.get("/api/mine", headers=vp)
    for_an_admin = await guarded.get("/api/mine", params={"person": VP}, headers=admin)
    for_another = await guarded.get("/api/mine", params={"person": VP}, headers=other)
    outsider = await guarded.get("/api/mine", params={"person": VP})
    in_dev_mode = await app_client.get("/api/mine", params={"person": VP})
    page = await guarded.get("/mine", headers=vp)

    assert own.status_code == 200, own.text
    assert own.headers["cache-control"] == "no-store"
    work = own.json()
    assert (work["person"], work["today"]) == (VP, today.isoformat())
    [decision] = [e for e in work["entries"] if e["process"]["id"] == pid]
    assert (decision["what"], decision["key"], decision["title"]) == ("decision", "go-no-go", "Go / no-go")
    assert decision["due_at"].startswith(f"{launch_date}T09:00:00")  # launch day, not the link's expiry
    assert decision["approval_link"] == links[VP]
    assert decision["process"]["link"].endswith(f"/processes/{pid}")
    seen_by_admin = [e for e in for_an_admin.json()["entries"] if e["process"]["id"] == pid]
    assert [(e["key"], e["approval_link"]) for e in seen_by_admin] == [("go-no-go", None)]
    assert for_another.status_code == 403
    assert for_another.json()["detail"].startswith("only an admin sees another person's work")
    assert outsider.status_code == 401
    assert [e["approval_link"] for e in in_dev_mode.json()["entries"] if e["process"]["id"] == pid] == [links[VP]]
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert path_of(links[VP]) in page.text and "Open your approval page" in page.text


async def test_someones_items_come_overdue_first(
    app_client: httpx.AsyncClient, stack: Stack, today: date, now: datetime
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    done = await app_client.post(f"/api/processes/{pid}/items/release-notes/done")
    assert done.status_code == 200, done.text

    async def caught_up() -> dict[str, Any] | None:
        work: dict[str, Any] = (await app_client.get("/api/mine", params={"person": "docs@example.com"})).json()
        return work if [e["key"] for e in work["entries"]] == ["documentation"] else None

    # the copy is written with the item's batch, a moment after the answer
    mine = await eventually(caught_up, "the done item to leave docs@'s work")
    async with client_of(stack, today + timedelta(days=25), now=now + timedelta(days=25)) as later:
        late = (await later.get("/api/mine", params={"person": "docs@example.com"})).json()
    no_temporal = Processes(cast(Any, None), "nowhere", load_template, today=lambda: today)  # asks no process
    async with client_of(stack, today, processes=no_temporal) as without:
        answered = (await without.get("/api/mine", params={"person": "docs@example.com"})).json()

    [entry] = mine["entries"]
    assert (entry["what"], entry["due"], entry["overdue"]) == ("item", (today + timedelta(days=20)).isoformat(), False)
    assert [(e["key"], e["overdue"]) for e in late["entries"]] == [("documentation", True)]
    assert [(e["key"], e["due"]) for e in answered["entries"]] == [(entry["key"], entry["due"])]


async def test_a_reviewer_reviews_a_message_due_by_its_send_time(
    app_client: httpx.AsyncClient, guarded: httpx.AsyncClient, stack: Stack, now: datetime
) -> None:
    send_at = datetime.combine(now.date() + timedelta(days=2), time(14, 30), UTC)  # before the review's expiry
    pid = (await start_comms(app_client, send_at=send_at.isoformat()))["id"]
    links = await review_links(app_client, pid)

    work = (await guarded.get("/api/mine", headers=bearer(stack, CS, Role.VIEWER))).json()
    rows = {row["id"]: row for row in (await app_client.get("/api/processes")).json()}

    [review] = [e for e in work["entries"] if e["process"]["id"] == pid]
    assert review["what"] == "review" and review["title"].startswith("Review: Maintenance ")
    assert datetime.fromisoformat(review["due_at"]) == send_at
    assert review["approval_link"] == links[CS]
    assert datetime.fromisoformat(rows[pid]["next_deadline"]) == send_at  # not the review's expiry a week on


async def test_a_link_in_a_messages_body_is_not_taken_for_the_reviewers_own(
    app_client: httpx.AsyncClient, guarded: httpx.AsyncClient, stack: Stack
) -> None:
    forged = "Read first: https://evil.example/approve/forged-token and /approve/another-one"
    pid = (await start_comms(app_client, body=forged))["id"]
    links = await review_links(app_client, pid)

    work = (await guarded.get("/api/mine", headers=bearer(stack, CS, Role.VIEWER))).json()
    page = await guarded.get("/mine", headers=bearer(stack, CS, Role.VIEWER))

    [review] = [e for e in work["entries"] if e["process"]["id"] == pid]
    assert review["approval_link"] == links[CS]
    assert "forged-token" not in page.text and path_of(links[CS]) in page.text


async def test_an_approver_added_by_an_edit_finds_their_link_in_their_work(
    app_client: httpx.AsyncClient, guarded: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    deputy = "deputy@example.com"
    pid = (await start(app_client, launch_params(today + timedelta(days=2))))["id"]  # the gate opens at once
    await approval_links(app_client, pid)
    edited = await app_client.post(f"/api/processes/{pid}/edits", json={"approvers": {"add": [deputy]}})
    assert edited.status_code == 200, edited.text
    sent = await latest_link(app_client, pid, deputy)

    async def with_link() -> dict[str, Any] | None:
        work = (await guarded.get("/api/mine", headers=bearer(stack, deputy, Role.VIEWER))).json()
        found = [e for e in work["entries"] if e["process"]["id"] == pid and e["approval_link"]]
        return found[0] if found else None

    decision = await eventually(with_link, "the added approver's link in their work")  # the copy comes with a batch

    assert (decision["what"], decision["key"]) == ("decision", "go-no-go")
    assert path_of(decision["approval_link"]) == sent
