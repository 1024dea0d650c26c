"""Acting from a process's page: each form shown to those its route lets in, posted, confirmed, in the trail.

The page's forms post to `/processes/{id}/…` (api/routes/process_actions.py), which make the same service
calls as the REST API; the browser comes back to the page (303), which says what was done. A refused form
shows the page again with why. A viewer, or an item's owner on another's item, sees no form and is 403 when
posting anyway; a post from another site is 403 whoever it would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.auth import Authenticator
from domain.access import Role
from integrations.people import People
from tests.api.conftest import DEV_USER, bearer, client_of
from tests.api.helpers import OWNER, audit, eventually, launch_params, start, trail_written, view, wait_until_idle
from tests.api.test_comms import start_comms
from tests.api.test_postmortem import SRE, kicked_off, start_postmortem
from tests.conftest import Stack
from workflows.steps.remind_now import REMIND_COOLDOWN

DOCS = "docs@example.com"
BROWSER = {"Sec-Fetch-Site": "same-origin"}
"""What a browser says of a post from one of our own pages."""


async def a_launch(client: httpx.AsyncClient, today: date) -> str:
    pid: str = (await start(client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(client, pid)
    return pid


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None, who: dict[str, str] | None = None
) -> httpx.Response:
    """Post a page's form as a browser does (from one of our pages), as `who` (headers proving them)."""
    return await client.post(path, data=data or {}, headers=BROWSER | (who or {}), follow_redirects=False)


async def came_back(client: httpx.AsyncClient, response: httpx.Response, pid: str) -> str:
    """The process page a form's 303 sends the browser back to (which says what was done, once)."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/processes/{pid}"
    page = await client.get(f"/processes/{pid}")
    assert page.status_code == 200
    return page.text


async def action(client: httpx.AsyncClient, pid: str, name: str, **details: Any) -> dict[str, Any]:
    """The trail's event `name` (with `details`), once written."""

    async def probe() -> dict[str, Any] | None:
        found = [e for e in await audit(client, pid) if e["action"] == name]
        return next((e for e in found if all(e["details"].get(k) == v for k, v in details.items())), None)

    return await eventually(probe, f"{name} in the trail of {pid}")


async def test_an_item_is_marked_done_or_wont_do_from_the_page(app_client: httpx.AsyncClient, today: date) -> None:
    pid = await a_launch(app_client, today)
    page = (await app_client.get(f"/processes/{pid}")).text
    assert "Mark done" in page and "Won’t do…" in page
    assert f'href="/api/processes/{pid}/evidence?format=html"' in page, "the evidence report is linked"

    done = await post_form(app_client, f"/processes/{pid}/items/documentation/done", {"resolution": "done"})
    shown = await came_back(app_client, done, pid)
    no_reason = await post_form(app_client, f"/processes/{pid}/items/legal-review/done", {"resolution": "wont_do"})
    wont = await post_form(
        app_client, f"/processes/{pid}/items/legal-review/done", {"resolution": "wont_do", "reason": "Not needed."}
    )
    shown_wont = await came_back(app_client, wont, pid)
    again = (await app_client.get(f"/processes/{pid}")).text

    assert "is done." in shown and 'role="status" id="said"' in shown
    assert no_reason.status_code == 409 and "a reason is required" in no_reason.text, "the process's own refusal"
    assert 'role="alert" id="problem"' in no_reason.text and "<details open>" in no_reason.text.replace("\n", "")
    assert "is won’t do." in shown_wont
    assert 'id="said"' not in again, "said once"
    items = {i["key"]: i for i in (await view(app_client, pid))["items"]}
    assert items["documentation"]["status"] == "done" and items["documentation"]["done_by"] == DEV_USER
    assert (items["legal-review"]["status"], items["legal-review"]["note"]) == ("wont_do", "Not needed.")
    row = await action(app_client, pid, "item_wont_do", item="legal-review")
    assert (row["actor"], row["details"]["reason"]) == (DEV_USER, "Not needed.")


async def test_remind_now_from_the_page_and_the_api(app_client: httpx.AsyncClient, stack: Stack, today: date) -> None:
    pid = await a_launch(app_client, today)

    from_page = await post_form(app_client, f"/processes/{pid}/remind")
    shown = await came_back(app_client, from_page, pid)
    requested = await action(app_client, pid, "remind_requested")
    await action(app_client, pid, "reminder", asked_by=DEV_USER)
    too_soon = await app_client.post(f"/api/processes/{pid}/remind", headers=bearer(stack, OWNER))
    for _ in range(200):  # while the first ask's emails are still going out, the refusal says that instead
        if "is being sent already" not in too_soon.text:
            break
        await asyncio.sleep(0.1)
        too_soon = await app_client.post(f"/api/processes/{pid}/remind", headers=bearer(stack, OWNER))
    await stack.env.sleep(REMIND_COOLDOWN)  # one reminder asked for an hour
    from_api = await app_client.post(f"/api/processes/{pid}/remind", headers=bearer(stack, OWNER))
    viewer = await app_client.post(f"/api/processes/{pid}/remind", headers=bearer(stack, "v@example.com", Role.VIEWER))

    assert "Reminders are on their way to" in shown and DOCS in shown
    assert (requested["actor"], requested["channel"]) == (DEV_USER, "api")
    assert DOCS in requested["details"]["owners"]
    assert too_soon.status_code == 409, too_soon.text
    assert "already: ask again from " in too_soon.json()["detail"]
    assert from_api.status_code == 202, from_api.text
    assert from_api.json()["approvers"] == [] and DOCS in from_api.json()["owners"]
    assert viewer.status_code == 403
    await trail_written(app_client, pid)
    asked = [e for e in stack.outbox(pid) if ":asked-" in e.key]
    assert {t for e in asked for t in e.to} >= {DOCS, "support@example.com"}


async def test_cancel_asks_first_then_cancels_with_the_reason(app_client: httpx.AsyncClient, today: date) -> None:
    pid = await a_launch(app_client, today)
    page = (await app_client.get(f"/processes/{pid}")).text
    assert f'href="/processes/{pid}/cancel"' in page

    confirm = await app_client.get(f"/processes/{pid}/cancel")
    no_reason = await post_form(app_client, f"/processes/{pid}/cancel", {"reason": "  "})
    still = (await view(app_client, pid))["status"]
    cancelled = await post_form(app_client, f"/processes/{pid}/cancel", {"reason": "Moved to Q1."})
    shown = await came_back(app_client, cancelled, pid)

    assert confirm.status_code == 200 and "cannot be undone" in confirm.text and 'name="reason"' in confirm.text
    assert no_reason.status_code == 422 and "say why it is cancelled" in no_reason.text
    assert still in ("running", "waiting")
    assert "is cancelled" in shown and "Moved to Q1." in shown
    assert "Mark done" not in shown and "Remind now" not in shown, "an ended process takes nothing"
    row = await action(app_client, pid, "cancelled")
    assert (row["actor"], row["details"]["reason"]) == (DEV_USER, "Moved to Q1.")


async def test_a_message_under_review_is_revised_from_the_page(app_client: httpx.AsyncClient) -> None:
    pid = (await start_comms(app_client))["id"]
    await action(app_client, pid, "review_requested")
    page = (await app_client.get(f"/processes/{pid}")).text
    assert "Revise the message" in page and "Send version 2 for review" in page

    body = (await view(app_client, pid))["content"]["body"]
    unchanged = await post_form(app_client, f"/processes/{pid}/revisions", {"body": body.replace("\n", "\r\n")})
    revised = await post_form(
        app_client,
        f"/processes/{pid}/revisions",
        {"body": "We upgrade on Sunday,\r\n02:00–04:00 UTC.", "comment": "Times."},
    )
    shown = await came_back(app_client, revised, pid)

    assert unchanged.status_code == 409 and "unchanged" in unchanged.text, "the typed CRLF is the same text"
    assert "Version 2 is under review" in shown
    content = (await view(app_client, pid))["content"]
    assert (content["version"], content["body"], content["by"]) == (
        2,
        "We upgrade on Sunday,\n02:00–04:00 UTC.",
        DEV_USER,
    )
    row = await action(app_client, pid, "revised", version=2)
    assert (row["actor"], row["details"]["comment"]) == (DEV_USER, "Times.")


async def test_an_action_item_is_filed_from_the_page(app_client: httpx.AsyncClient, now: datetime) -> None:
    pid = (await start_postmortem(app_client, now))["id"]
    await kicked_off(app_client, pid)
    assert "File an action item" in (await app_client.get(f"/processes/{pid}")).text

    bad = await post_form(app_client, f"/processes/{pid}/action-items", {"title": "Alert", "owner": "not-an-email"})
    filed = await post_form(
        app_client, f"/processes/{pid}/action-items", {"title": "Alert on error rate", "owner": SRE, "priority": "P1"}
    )
    shown = await came_back(app_client, filed, pid)

    assert bad.status_code == 422 and "owner:" in bad.text and 'value="Alert"' in bad.text, "what was typed is kept"
    assert "action-1, “Alert on error rate”, is filed for sre@example.com" in shown
    [_, item] = (await view(app_client, pid))["items"]
    assert (item["key"], item["owner"], item["priority"]) == ("action-1", SRE, "P1")
    row = await action(app_client, pid, "action_item_added", item="action-1")
    assert row["actor"] == DEV_USER


# ---- who sees which form, and who may post --------------------------------------------


@pytest.fixture
async def guarded(stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the production rules on: every request proves who it is."""
    async with client_of(stack, today, auth=Authenticator(People(stack.store.engine))) as client:
        yield client


FORMS = ["Mark done", "Won’t do…", "Remind now", "Cancel this process…"]


async def test_a_viewer_sees_no_form_and_is_refused_if_they_post_anyway(
    guarded: httpx.AsyncClient, app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = await a_launch(app_client, today)
    viewer, member = bearer(stack, "viewer@example.com", Role.VIEWER), bearer(stack, "member@example.com")

    page = (await guarded.get(f"/processes/{pid}", headers=viewer)).text
    posts = {
        path: [
            (await post_form(guarded, f"/processes/{pid}/{path}", data, who=who)).status_code
            for who in (viewer, member)
        ]
        for path, data in [
            ("items/documentation/done", {"resolution": "done"}),
            ("remind", {}),
            ("revisions", {"body": "x"}),
            ("action-items", {"title": "x", "owner": SRE}),
            ("cancel", {"reason": "x"}),
        ]
    }
    confirm = await guarded.get(f"/processes/{pid}/cancel", headers=member)

    assert [form for form in FORMS if form in page] == []
    assert f"/api/processes/{pid}/evidence?format=html" in page, "the evidence report is anyone's to read"
    assert posts == {path: [403, 403] for path in posts}
    assert confirm.status_code == 403
    assert (await view(app_client, pid))["status"] in ("running", "waiting")
    assert not [e for e in await audit(app_client, pid) if e["action"] in ("item_done", "remind_requested")]


async def test_an_item_owner_acts_on_their_own_items_only(
    guarded: httpx.AsyncClient, app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = await a_launch(app_client, today)
    docs = bearer(stack, DOCS, Role.VIEWER)  # a viewer elsewhere: being named by the process is what counts
    mine = {i["key"] for i in (await view(app_client, pid))["items"] if i["owner"] == DOCS}
    theirs = next(i["key"] for i in (await view(app_client, pid))["items"] if i["owner"] != DOCS)

    page = (await guarded.get(f"/processes/{pid}", headers=docs)).text
    others = await post_form(guarded, f"/processes/{pid}/items/{theirs}/done", {"resolution": "done"}, who=docs)
    own = await post_form(guarded, f"/processes/{pid}/items/{sorted(mine)[0]}/done", {"resolution": "done"}, who=docs)

    forms = page.count(">Mark done</button>")
    assert forms == len(mine), "a form for each of their items, none for the others'"
    assert f"/items/{theirs}/done" not in page
    assert "Remind now" not in page and "Cancel this process…" not in page
    assert others.status_code == 403 and "only the item&#39;s owner" in others.text
    assert own.status_code == 303
    row = await action(app_client, pid, "item_done", item=sorted(mine)[0])
    assert row["actor"].startswith(DOCS)


async def test_the_owner_sees_every_form_of_their_process(
    guarded: httpx.AsyncClient, app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = await a_launch(app_client, today)
    owner = bearer(stack, OWNER)

    page = (await guarded.get(f"/processes/{pid}", headers=owner)).text
    reminded = await post_form(guarded, f"/processes/{pid}/remind", who=owner)

    assert [form for form in FORMS if form in page] == FORMS
    assert reminded.status_code == 303
    row = await action(app_client, pid, "remind_requested")
    assert row["actor"] == f"{OWNER} (token test-0)"


async def test_a_post_from_another_site_changes_nothing(app_client: httpx.AsyncClient, today: date) -> None:
    pid = await a_launch(app_client, today)

    forged = [
        (
            await app_client.post(f"/processes/{pid}/{path}", data=data, headers={"Sec-Fetch-Site": "cross-site"})
        ).status_code
        for path, data in [("items/documentation/done", {}), ("remind", {}), ("cancel", {"reason": "x"})]
    ]

    assert forged == [403, 403, 403]
    assert (await view(app_client, pid))["status"] in ("running", "waiting")
    assert not [
        e for e in await audit(app_client, pid) if e["action"] in ("item_done", "remind_requested", "cancelled")
    ]
