"""Changing a running process over HTTP: ``POST /api/processes/{id}/edits``, the process page's form, and an approver
handing their decision on from their link's page (``POST /approve/{token}/delegate``).

Only the process's owner (or an admin) edits; a member who is not the owner is 403. A wrong field is 422 naming it;
what the process's state refuses is 409 with a sentence. A replaced approver's link answers 410.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from domain.access import Role
from tests.api.conftest import bearer
from tests.api.helpers import (
    APPROVERS,
    LINK,
    OWNER,
    approval_links,
    audit,
    eventually,
    forms_of,
    launch_params,
    path_of,
    start,
    text_of,
    view,
    wait_until_idle,
)
from tests.api.test_page_actions import BROWSER, came_back, post_form
from tests.conftest import Stack

VP, LEGAL = APPROVERS
COUNSEL = "counsel@example.com"
DEPUTY = "deputy@example.com"
WRITER = "writer@example.com"


async def latest_link(client: httpx.AsyncClient, pid: str, person: str) -> str:
    """The path of the newest approval link emailed to `person`, once there is one."""

    async def probe() -> str | None:
        entries = (await client.get("/api/outbox", params={"process": pid})).json()
        found = [m.group(0) for e in entries if e["channel"] == "email" and e["to"] == [person]
                 for m in [LINK.search(e["body"])] if m]  # fmt: skip
        return path_of(found[-1]) if found else None

    return await eventually(probe, f"an approval link for {person}")


async def settled(client: httpx.AsyncClient, pid: str, action: str, count: int = 1) -> list[dict[str, Any]]:
    """The trail once it holds `count` events `action`."""

    async def probe() -> list[dict[str, Any]] | None:
        trail = await audit(client, pid)
        return trail if sum(e["action"] == action for e in trail) >= count else None

    return await eventually(probe, f"{count} {action} of {pid}")


def form_token(html: str, action_ends: str = "") -> str:
    """The form token of the page's form whose action ends with `action_ends`."""
    form = next(f for f in forms_of(html) if f["attrs"].get("action", "").endswith(action_ends))
    value: str = next(f["value"] for f in form["fields"] if f["name"] == "form_token")
    return value


async def test_the_owner_moves_a_launch_and_others_are_refused(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    params = launch_params(today + timedelta(days=30))
    pid = (await start(app_client, params))["id"]
    await wait_until_idle(app_client, pid)
    new = (today + timedelta(days=37)).isoformat()
    owner, member = bearer(stack, OWNER), bearer(stack, "member@example.com")
    viewer = bearer(stack, "viewer@example.com", Role.VIEWER)

    stranger = await app_client.post(f"/api/processes/{pid}/edits", json={"launch_date": new}, headers=member)
    looker = await app_client.post(f"/api/processes/{pid}/edits", json={"launch_date": new}, headers=viewer)
    empty = await app_client.post(f"/api/processes/{pid}/edits", json={}, headers=owner)
    malformed = await app_client.post(
        f"/api/processes/{pid}/edits", json={"approvers": {"add": ["not-an-address"]}}, headers=owner
    )
    unknown = await app_client.post(f"/api/processes/{pid}/edits", json={"owners": {"nope": WRITER}}, headers=owner)
    moved = await app_client.post(
        f"/api/processes/{pid}/edits", json={"launch_date": new, "reason": "Legal needs a week."}, headers=owner
    )
    trail = await settled(app_client, pid, "edited")

    assert stranger.status_code == 403 and "owner" in stranger.json()["detail"]
    assert looker.status_code == 403
    assert empty.status_code == 422 and "nothing to change" in str(empty.json()["detail"])
    assert malformed.status_code == 422 and "approvers" in str(malformed.json()["detail"])
    assert unknown.status_code == 422 and "owners.nope" in unknown.json()["detail"]
    assert moved.status_code == 200, moved.text
    [change] = moved.json()["changes"]
    assert (change["what"], change["before"], change["after"]) == ("launch_date", params["launch_date"], new)
    assert moved.json()["view"]["id"] == pid and moved.json()["view"]["params"]["launch_date"] == new
    [edited] = [e for e in trail if e["action"] == "edited"]
    assert (edited["actor"], edited["channel"]) == (f"{OWNER} (token test-0)", "api")
    assert edited["details"]["changes"][0]["after"] == new


async def test_a_replaced_approvers_link_is_gone_and_the_new_one_decides(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = (await start(app_client, launch_params(today, policy=2)))["id"]
    links = await approval_links(app_client, pid)

    quorum = await app_client.post(f"/api/processes/{pid}/edits", json={"approvers": {"remove": [LEGAL]}})
    replaced = await app_client.post(f"/api/processes/{pid}/edits", json={"approvers": {"replace": {LEGAL: COUNSEL}}})
    old_page = await app_client.get(path_of(links[LEGAL]))
    counsel = await latest_link(app_client, pid, COUNSEL)
    page = await app_client.get(counsel)
    decided = await app_client.post(counsel, data={"decision": "approve", "form_token": form_token(page.text, counsel)})

    assert quorum.status_code == 409 and "needs 2 approvals" in quorum.json()["detail"]
    assert replaced.status_code == 200, replaced.text
    assert old_page.status_code == 410 and "no longer an approver" in old_page.text
    assert decided.status_code == 200 and "Your approval is recorded" in text_of(decided.text)
    current = await view(app_client, pid)
    assert current["gates"][0]["approvers"] == [VP, COUNSEL] and current["params"]["approvers"] == [VP, COUNSEL]


async def test_the_page_shows_the_change_form_to_the_owner_and_changes_an_items_owner(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    page = (await app_client.get(f"/processes/{pid}")).text
    viewer = await app_client.get(f"/processes/{pid}", headers=bearer(stack, "v@example.com", Role.VIEWER))
    as_member = await post_form(
        app_client, f"/processes/{pid}/edits", {"owner.documentation": WRITER}, bearer(stack, "m@example.com")
    )

    nothing = await post_form(app_client, f"/processes/{pid}/edits", {"reason": "tidy"})
    changed = await post_form(
        app_client, f"/processes/{pid}/edits", {"owner.documentation": WRITER, "reason": "Docs team is full."}
    )
    shown = await came_back(app_client, changed, pid)

    assert "Change this process" in page and 'name="owner.documentation"' in page and 'name="launch_date"' in page
    assert "Change this process" not in viewer.text
    assert as_member.status_code == 403
    assert nothing.status_code == 422 and "nothing to change" in nothing.text
    assert "Changed: " in shown and f"moves from docs@example.com to {WRITER}" in shown
    items = {i["key"]: i for i in (await view(app_client, pid))["items"]}
    assert items["documentation"]["owner"] == WRITER


async def test_an_approver_hands_their_decision_on_from_their_page(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = (await start(app_client, launch_params(today)))["id"]
    links = await approval_links(app_client, pid)
    legal = path_of(links[LEGAL])
    page = await app_client.get(legal)

    handed = await app_client.post(
        f"{legal}/delegate",
        data={"to": DEPUTY, "note": "On leave.", "form_token": form_token(page.text, "/delegate")},
        headers=BROWSER,
    )
    forged = await app_client.post(f"{legal}/delegate", data={"to": DEPUTY, "form_token": "x"})
    deputy = await latest_link(app_client, pid, DEPUTY)
    deputy_page = await app_client.get(deputy)
    decided = await app_client.post(
        deputy,
        data={"decision": "approve", "comment": "OK for legal.", "form_token": form_token(deputy_page.text, deputy)},
    )
    await settled(app_client, pid, "decision")
    evidence = (await app_client.get(f"/api/processes/{pid}/evidence")).text

    assert "Hand this decision to someone else" in page.text
    assert handed.status_code == 200 and "Handed on" in text_of(handed.text), handed.text
    assert forged.status_code == 400
    assert f"on behalf of {LEGAL}" in text_of(deputy_page.text)
    assert "Hand this decision to someone else" not in deputy_page.text, "only the approver hands it on"
    assert decided.status_code == 200, decided.text
    [record] = (await view(app_client, pid))["gates"][0]["decisions"]
    assert (record["approver"], record["on_behalf_of"]) == (DEPUTY, LEGAL)
    assert f"{DEPUTY} on behalf of {LEGAL}" in evidence
    assert f"{LEGAL} handed their decision to {DEPUTY}" in evidence


async def test_the_link_page_refuses_a_hand_over_to_a_fellow_approver_or_the_owner(
    app_client: httpx.AsyncClient, today: date
) -> None:
    pid = (await start(app_client, launch_params(today)))["id"]
    legal = path_of((await approval_links(app_client, pid))[LEGAL])
    page = await app_client.get(legal)

    async def hand_to(person: str) -> httpx.Response:
        data = {"to": person, "form_token": form_token(page.text, "/delegate")}
        return await app_client.post(f"{legal}/delegate", data=data, headers=BROWSER)

    fellow, owner = await hand_to(VP), await hand_to(OWNER)

    assert fellow.status_code == 409, fellow.text
    assert f"{VP} is an approver of this gate already: one person, one decision" in text_of(fellow.text)
    assert owner.status_code == 409, owner.text
    assert f"{OWNER} owns this launch and cannot decide Go / no-go" in text_of(owner.text)
    assert (await view(app_client, pid))["gates"][0]["delegates"] == {}
    assert not [e for e in await audit(app_client, pid) if e["action"] == "delegated"]


async def test_items_added_and_removed_over_http_and_a_past_due_date_or_done_item_refused(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    url, due = f"/api/processes/{pid}/edits", (today + timedelta(days=20)).isoformat()
    past = {"title": "Late", "owner": WRITER, "due": (today - timedelta(days=1)).isoformat()}

    unknown = await app_client.post(url, json={"remove_items": ["nope"]})
    too_late = await app_client.post(url, json={"add_items": [past]})
    edited = await app_client.post(
        url,
        json={"add_items": [{"title": "Pricing page", "owner": WRITER, "due": due}], "remove_items": ["documentation"],
              "reason": "Docs ship later."},
    )  # fmt: skip
    again = await app_client.post(url, json={"remove_items": ["documentation"]})
    trail = await settled(app_client, pid, "item_wont_do")

    assert unknown.status_code == 422 and "remove_items" in unknown.json()["detail"]
    assert too_late.status_code == 422 and "add_items.0.due" in too_late.json()["detail"]
    assert edited.status_code == 200, edited.text
    assert [c["what"] for c in edited.json()["changes"]] == ["added:pricing-page", "removed:documentation"]
    items = {i["key"]: i for i in edited.json()["view"]["items"]}
    assert (items["pricing-page"]["owner"], items["pricing-page"]["due"]) == (WRITER, due)
    assert items["documentation"]["status"] == "wont_do" and "Docs ship later." in items["documentation"]["note"]
    assert again.status_code == 409 and "won't do already" in again.json()["detail"]
    [edited_event] = [e for e in trail if e["action"] == "edited"]
    assert [c["what"] for c in edited_event["details"]["changes"]] == ["added:pricing-page", "removed:documentation"]
