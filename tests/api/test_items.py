"""POST /api/processes/{id}/items/{item}/done: mark a checklist item done."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from temporalio.client import WorkflowExecutionStatus

from domain.access import Role
from tests.api.conftest import bearer
from tests.api.helpers import (
    OWNER,
    audit,
    launch_params,
    start,
    view,
    wait_closed,
    wait_for_action,
    wait_until_idle,
)
from tests.conftest import Stack

DOCS = "docs@example.com (token test-0)"
"""The documentation item's owner, through a token of theirs: a viewer elsewhere, its owner here."""


async def test_marking_an_item_done_twice_records_it_once(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    url = f"/api/processes/{pid}/items/documentation/done"

    first = await app_client.post(url, headers=bearer(stack, "docs@example.com", Role.VIEWER))

    assert first.status_code == 200, first.text
    item = first.json()
    assert item["key"] == "documentation"
    assert item["status"] == "done"
    assert item["done_by"] == DOCS
    assert item["done_at"] is not None

    second = await app_client.post(url, headers=bearer(stack, OWNER))

    assert second.status_code == 200, second.text
    assert second.json()["status"] == "done"
    assert second.json()["done_by"] == DOCS
    assert second.json()["done_at"] == item["done_at"]
    done_events = [e for e in await wait_for_action(app_client, pid, "item_done") if e["action"] == "item_done"]
    assert len(done_events) == 1
    assert done_events[0]["actor"] == DOCS
    assert done_events[0]["details"]["item"] == "documentation"
    items = {i["key"]: i["status"] for i in (await view(app_client, pid))["items"]}
    assert items["documentation"] == "done"
    assert list(items.values()).count("done") == 1


async def test_unknown_item_is_404(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]

    response = await app_client.post(f"/api/processes/{pid}/items/no-such-item/done")

    assert response.status_code == 404, response.text
    assert "no checklist item 'no-such-item'" in response.json()["detail"]


async def test_item_of_unknown_process_is_404(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/api/processes/launch-nothing-here-2030-01-01/items/documentation/done")

    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "no process with id launch-nothing-here-2030-01-01"}


async def test_item_of_a_finished_process_is_409(app_client: httpx.AsyncClient, stack: Stack, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    cancelled = await app_client.post(f"/api/processes/{pid}/cancel", json={"reason": "scrapped"})
    assert cancelled.status_code == 200, cancelled.text
    assert await wait_closed(stack, pid) == WorkflowExecutionStatus.COMPLETED

    response = await app_client.post(f"/api/processes/{pid}/items/documentation/done")

    assert all(e["action"] != "item_done" for e in await audit(app_client, pid))
    assert response.status_code == 409, response.text


async def test_a_launch_item_accepted_as_wont_do_keeps_its_reason(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    url = f"/api/processes/{pid}/items/sales-enablement/done"

    without = await app_client.post(url, json={"resolution": "wont_do"})
    wont = await app_client.post(url, json={"resolution": "wont_do", "reason": "No sales motion for a free tier."})

    assert without.status_code == 409 and "a reason is required" in without.json()["detail"]
    assert wont.status_code == 200, wont.text
    assert (wont.json()["status"], wont.json()["note"]) == ("wont_do", "No sales motion for a free tier.")
    [event] = [e for e in await wait_for_action(app_client, pid, "item_wont_do") if e["action"] == "item_wont_do"]
    assert event["details"] == {
        "item": "sales-enablement",
        "resolution": "wont_do",
        "reason": "No sales motion for a free tier.",
    }


async def test_only_the_items_owner_the_process_owner_or_an_admin_marks_it_done(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)

    refused = await app_client.post(
        f"/api/processes/{pid}/items/documentation/done", headers=bearer(stack, "someone@example.com")
    )

    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        f"only the item's owner (docs@example.com), the process's owner ({OWNER}) or an admin may"
    )
    assert {i["key"]: i["status"] for i in (await view(app_client, pid))["items"]}["documentation"] == "open"
