"""GET /api/processes and /api/processes/{id}: the list, its filters, one process."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.api.helpers import APPROVERS, OWNER, eventually, launch_params, start, view, wait_for_action, wait_until_idle


async def rows(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    response = await client.get("/api/processes", params=filters)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_list_shows_processes_and_filters_them(app_client: httpx.AsyncClient, today: date) -> None:
    first = await start(app_client, launch_params(today + timedelta(days=30)))
    second = await start(app_client, launch_params(today + timedelta(days=40), owner="other-pm@example.com"))
    await wait_until_idle(app_client, second["id"])
    cancelled = await app_client.post(f"/api/processes/{second['id']}/cancel", json={"reason": "dropped"})
    assert cancelled.status_code == 200, cancelled.text

    async def settled() -> list[dict[str, Any]] | None:
        found = await rows(app_client)
        statuses = {r["id"]: r["status"] for r in found}
        return found if statuses == {first["id"]: "running", second["id"]: "cancelled"} else None

    listed = await eventually(settled, "both processes in the list")
    row = next(r for r in listed if r["id"] == first["id"])
    assert row["kind"] == "launch"
    assert row["owner"] == OWNER
    assert row["title"] == first["title"]
    assert set(row) == {
        "id",
        "kind",
        "title",
        "owner",
        "status",
        "started_at",
        "updated_at",
        "progress",
        "next_deadline",
        "overdue",
    }

    assert [r["id"] for r in await rows(app_client, owner=OWNER)] == [first["id"]]
    assert [r["id"] for r in await rows(app_client, owner="other-pm@example.com")] == [second["id"]]
    assert [r["id"] for r in await rows(app_client, status="cancelled")] == [second["id"]]
    assert [r["id"] for r in await rows(app_client, status="running")] == [first["id"]]
    assert {r["id"] for r in await rows(app_client, kind="launch")} == {first["id"], second["id"]}
    assert await rows(app_client, kind="eol") == []
    assert await rows(app_client, kind="launch", status="completed") == []


async def test_an_unknown_status_or_kind_is_422_naming_the_known_ones(app_client: httpx.AsyncClient) -> None:
    status = await app_client.get("/api/processes", params={"status": "bogus"})
    kind = await app_client.get("/api/processes", params={"kind": "bogus"})

    assert status.status_code == 422
    [problem] = status.json()["detail"]
    assert problem["loc"] == ["query", "status"]
    assert all(f"'{known}'" in problem["msg"] for known in ["running", "waiting", "completed", "cancelled", "failed"])
    assert kind.status_code == 422
    assert kind.json()["detail"] == "unknown process kind 'bogus'; known kinds: launch, comms, postmortem, eol"


async def test_one_process_has_its_steps_items_gates_and_links(app_client: httpx.AsyncClient, today: date) -> None:
    started = await start(app_client, launch_params(today + timedelta(days=30)))
    await wait_for_action(app_client, started["id"], "message_sent")

    async def kicked_off() -> dict[str, Any] | None:
        current = await view(app_client, started["id"])
        return current if current["steps"][0]["status"] == "done" else None

    body = await eventually(kicked_off, "the kickoff to finish")

    assert set(body) >= {"id", "kind", "status", "owner", "params", "steps", "items", "gates", "approvals", "links"}
    assert body["id"] == started["id"]
    assert body["kind"] == "launch"
    assert body["status"] == "running"
    assert body["owner"] == OWNER
    assert body["params"] == started["params"]
    assert [s["key"] for s in body["steps"]] == ["kickoff", "checklist", "go-no-go", "launch-day"]
    assert all({"key", "title", "status"} <= set(s) for s in body["steps"])
    assert [s["status"] for s in body["steps"]] == ["done", "active", "pending", "pending"]
    assert len(body["items"]) == 12
    docs = next(i for i in body["items"] if i["key"] == "documentation")
    assert docs["owner"] == "docs@example.com"
    assert docs["status"] == "open"
    assert docs["due"] == (today + timedelta(days=30 - 10)).isoformat()
    assert docs["issue_key"].startswith("LAUNCH-")
    (gate,) = body["gates"]
    assert gate["key"] == "go-no-go"
    assert gate["status"] == "pending"
    assert gate["approvers"] == APPROVERS
    assert gate["required"] == 2
    assert body["approvals"] == []
    assert body["links"]["epic"].startswith("LAUNCH-")


async def test_unknown_process_is_404_with_a_detail(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/processes/launch-nothing-here-2030-01-01")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "no process with id launch-nothing-here-2030-01-01"}


async def test_the_list_shows_progress_and_the_next_deadline(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    process = await wait_until_idle(app_client, pid)
    done = await app_client.post(f"/api/processes/{pid}/items/legal-review/done")
    assert done.status_code == 200
    await wait_for_action(app_client, pid, "item_done")  # the list is the store's, kept from the trail

    rows = {r["id"]: r for r in (await app_client.get("/api/processes")).json()}
    page = await app_client.get("/")

    first_due = min(i["due"] for i in process["items"] if i["key"] != "legal-review")
    assert rows[pid]["progress"] == f"1 of {len(process['items'])} items done"
    assert rows[pid]["next_deadline"].startswith(f"{first_due}T09:00:00")
    assert f"1 of {len(process['items'])} items done" in page.text and f"{first_due} 09:00 UTC" in page.text
