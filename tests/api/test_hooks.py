"""POST /hooks/jira: signed, capped, deduplicated, and acting through config/triggers.yaml."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta
from typing import Any

import httpx

from api.routes.hooks import MAX_BODY
from domain.requests import process_label
from tests.api.conftest import EVENTS_SECRET, JIRA_WEBHOOK_SECRET
from tests.api.helpers import eventually, launch_params, start, view, wait_for_action


def signed(body: bytes, secret: str = JIRA_WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def issue_event(key: str, labels: list[str], status: str = "Done", category: str = "done", **fields: Any) -> bytes:
    event = {
        "webhookEvent": "jira:issue_updated",
        "issue": {
            "key": key,
            "fields": {
                "project": {"key": key.split("-")[0]},
                "status": {"name": status, "statusCategory": {"key": category}},
                "labels": labels,
                **fields,
            },
        },
    }
    return json.dumps(event).encode()


async def post(client: httpx.AsyncClient, body: bytes, delivery: str, signature: str | None = "ok") -> httpx.Response:
    headers = {"content-type": "application/json", "x-atlassian-webhook-identifier": delivery}
    if signature == "ok":
        headers["x-hub-signature"] = signed(body)
    elif signature is not None:
        headers["x-hub-signature"] = signature
    return await client.post("/hooks/jira", content=body, headers=headers)


async def kicked_off(client: httpx.AsyncClient, today: date) -> dict[str, Any]:
    pid = (await start(client, launch_params(today + timedelta(days=30))))["id"]

    async def issues_made() -> dict[str, Any] | None:
        current = await view(client, pid)
        return current if all(i["issue_key"] for i in current["items"]) else None

    return await eventually(issues_made, "every checklist item to have its issue")


async def test_a_done_issue_marks_its_item_done_once(app_client: httpx.AsyncClient, today: date) -> None:
    process = await kicked_off(app_client, today)
    item = next(i for i in process["items"] if i["key"] == "documentation")
    body = issue_event(item["issue_key"], ["signoff", process_label(process["id"])])

    first = await post(app_client, body, "delivery-1")
    assert first.status_code == 200, first.text
    assert first.json()["actions"] == [
        {"rule": "item-done-from-jira", "process": process["id"], "item_done": "documentation"}
    ]
    trail = await wait_for_action(app_client, process["id"], "item_done")
    [done] = [e for e in trail if e["action"] == "item_done"]
    assert (done["actor"], done["channel"], done["details"]["item"]) == ("jira", "jira", "documentation")
    assert not any(e["action"] == "issue_transitioned" for e in trail), "Jira already has it done"

    again = await post(app_client, body, "delivery-1")
    assert again.json()["status"] == "duplicate"
    later = await post(app_client, body, "delivery-2")  # a new delivery of the same fact changes nothing either
    assert later.status_code == 200
    trail = await wait_for_action(app_client, process["id"], "item_done")
    assert len([e for e in trail if e["action"] == "item_done"]) == 1
    status = {i["key"]: i["status"] for i in (await view(app_client, process["id"]))["items"]}
    assert status["documentation"] == "done"


async def test_an_issue_of_no_process_is_skipped(app_client: httpx.AsyncClient) -> None:
    response = await post(app_client, issue_event("OPS-1", ["ops"]), "delivery-3")
    assert response.status_code == 200
    [action] = response.json()["actions"]
    assert "skipped" in action


async def test_a_launch_issue_ready_for_launch_starts_one_launch(app_client: httpx.AsyncClient, today: date) -> None:
    fields = {
        "summary": "Acme Webhook Edition",
        "duedate": (today + timedelta(days=20)).isoformat(),
        "reporter": {"emailAddress": "pm@example.com"},
        "assignee": {"emailAddress": "vp@example.com"},
    }
    body = issue_event("LAUNCH-42", [], "Ready for launch", "indeterminate", **fields)

    first = await post(app_client, body, "delivery-4")
    [action] = first.json()["actions"]
    assert action["rule"] == "launch-from-jira"
    process_id = action["started"]
    assert process_id == f"launch-acme-webhook-edition-{fields['duedate']}"

    second = await post(app_client, body, "delivery-5")  # the same event, delivered again under a new id
    [again] = second.json()["actions"]
    assert "unchanged" in again

    async def listed() -> list[str] | None:
        ids = [p["id"] for p in (await app_client.get("/api/processes")).json()]
        return ids if process_id in ids else None

    assert (await eventually(listed, "the started launch to be listed")).count(process_id) == 1


async def test_signatures_are_checked_on_the_raw_body(app_client: httpx.AsyncClient) -> None:
    body = issue_event("OPS-2", [])
    assert (await post(app_client, body, "d-6", signature=None)).status_code == 401
    assert (await post(app_client, body, "d-7", signature=signed(body, "another-secret"))).status_code == 401
    assert (await post(app_client, body, "d-8", signature=signed(body + b" "))).status_code == 401
    assert (await post(app_client, body, "d-9", signature=signed(body).removeprefix("sha256="))).status_code == 401


async def test_bad_bodies_are_refused_before_anything_happens(app_client: httpx.AsyncClient) -> None:
    huge = b"{" + b" " * (MAX_BODY + 1) + b"}"
    assert (await post(app_client, huge, "d-10")).status_code == 413
    assert (await post(app_client, b"not json", "d-11")).status_code == 400
    assert (await post(app_client, b'{"no": "event"}', "d-12")).status_code == 400


async def post_event(client: httpx.AsyncClient, event: dict[str, Any], secret: str = EVENTS_SECRET) -> httpx.Response:
    body = json.dumps(event).encode()
    return await client.post(
        "/hooks/events",
        content=body,
        headers={"content-type": "application/json", "x-hub-signature": signed(body, secret)},
    )


async def test_a_signed_event_starts_a_launch_and_a_redelivery_changes_nothing(
    app_client: httpx.AsyncClient, today: date
) -> None:
    event = {
        "type": "launch.requested",
        "id": "evt-1",
        "product": "Acme Events",
        "launch_date": (today + timedelta(days=10)).isoformat(),
        "owner": "pm@example.com",
        "approvers": ["vp@example.com", "legal@example.com"],
    }
    first = await post_event(app_client, event)
    assert first.status_code == 200, first.text
    [action] = first.json()["actions"]
    assert action == {"rule": "launch-from-event", "started": f"launch-acme-events-{event['launch_date']}"}

    assert (await post_event(app_client, event)).json()["status"] == "duplicate"
    [again] = (await post_event(app_client, event | {"id": "evt-2"})).json()["actions"]
    assert "unchanged" in again

    wrong = await post_event(app_client, event | {"id": "evt-3"}, secret="not-the-secret")
    assert wrong.status_code == 401


async def test_an_event_without_a_type_or_with_bad_params_is_answered_plainly(
    app_client: httpx.AsyncClient,
) -> None:
    assert (await post_event(app_client, {"id": "evt-4"})).status_code == 400
    response = await post_event(app_client, {"type": "launch.requested", "id": "evt-5", "product": "X"})
    assert response.status_code == 200
    [action] = response.json()["actions"]
    assert "refused" in action and "launch_date" in action["refused"]
    assert (await post_event(app_client, {"type": "nobody.cares", "id": "evt-6"})).json()["actions"] == []
