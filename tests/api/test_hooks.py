"""POST /hooks/jira and /hooks/events: signed, fresh, capped, deduplicated by what the signature covers, and
acting through config/triggers.yaml."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks import Webhook

from api.routes.hooks import MAX_BODY
from domain.requests import process_label
from tests.api.conftest import EVENTS_SECRET, JIRA_WEBHOOK_SECRET, client_of
from tests.api.helpers import eventually, launch_params, start, view, wait_for_action
from tests.conftest import Stack

CHANGES = itertools.count(10_400)
"""Jira's changelog ids: each change to an issue has its own."""


def signed(body: bytes, secret: str = JIRA_WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def issue_event(
    key: str,
    labels: list[str],
    status: str = "Done",
    category: str = "done",
    at: datetime | None = None,
    **fields: Any,
) -> bytes:
    """A Jira issue update as Jira posts it: raised `at` (default now), one change of its own."""
    event = {
        "timestamp": int((at or datetime.now(UTC)).timestamp() * 1000),
        "webhookEvent": "jira:issue_updated",
        "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Docs Writer"},  # who moved the issue
        "changelog": {"id": str(next(CHANGES)), "items": [{"field": "status", "toString": status}]},
        "issue": {
            "id": str(int(hashlib.sha256(key.encode()).hexdigest()[:6], 16)),
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
    assert (done["actor"], done["channel"], done["details"]["item"]) == (
        "jira:5b10ac8d82e05b22cc7d4ef5",  # the Jira user whose change the signed delivery reports
        "jira",
        "documentation",
    )
    assert not any(e["action"] == "issue_transitioned" for e in trail), "Jira already has it done"

    again = await post(app_client, body, "delivery-1")
    assert again.json()["status"] == "duplicate"
    # The same signed body under a new delivery header (a replay, or Jira's retry): the same delivery.
    later = await post(app_client, body, "delivery-2")
    assert (later.status_code, later.json()["status"]) == (200, "duplicate")
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
    fields: dict[str, Any] = {
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
    assert second.json()["status"] == "duplicate"
    next_change = issue_event("LAUNCH-42", [], "Ready for launch", "indeterminate", **fields)  # another edit
    [again] = (await post(app_client, next_change, "delivery-6")).json()["actions"]
    assert "unchanged" in again  # its process exists

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


async def test_a_jira_event_outside_its_freshness_window_is_refused_with_a_sentence(
    app_client: httpx.AsyncClient,
) -> None:
    old = issue_event("OPS-3", [], at=datetime.now(UTC) - timedelta(hours=2))  # genuinely signed, replayed late
    ahead = issue_event("OPS-3", [], at=datetime.now(UTC) + timedelta(hours=1))
    undated = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-3"}}).encode()

    refused = {name: await post(app_client, body, f"d-{name}") for name, body in
               [("old", old), ("ahead", ahead), ("undated", undated)]}  # fmt: skip

    assert {name: r.status_code for name, r in refused.items()} == {"old": 400, "ahead": 400, "undated": 400}
    assert "the event's timestamp is 2 hours old" in refused["old"].json()["detail"]
    assert "in the future" in refused["ahead"].json()["detail"]
    assert "no timestamp" in refused["undated"].json()["detail"]
    late_retry = await post(app_client, issue_event("OPS-3", [], at=datetime.now(UTC) - timedelta(minutes=30)), "d")
    assert late_retry.json()["status"] == "accepted"  # Jira retries for about half an hour


def standard_headers(body: bytes, secret: str = EVENTS_SECRET, delivery: str = "", at: float = 0) -> dict[str, str]:
    """What a Standard Webhooks sender puts on a delivery: its id, its time, the signature over both and the body.

    A plain secret (as the tests' `EVENTS_SECRET`) is, to a sender's library, ``whsec_`` and its base64."""
    key = secret if secret.startswith("whsec_") else "whsec_" + base64.b64encode(secret.encode()).decode()
    delivery = delivery or f"msg_{time.time_ns()}"
    moment = datetime.fromtimestamp(at or time.time(), UTC)
    return {
        "content-type": "application/json",
        "webhook-id": delivery,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(key).sign(delivery, moment, body.decode()),
    }


async def post_event(
    client: httpx.AsyncClient, event: dict[str, Any], secret: str = EVENTS_SECRET, **signing: Any
) -> httpx.Response:
    body = json.dumps(event).encode()
    return await client.post("/hooks/events", content=body, headers=standard_headers(body, secret, **signing))


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

    [again] = (await post_event(app_client, event | {"id": "evt-2"})).json()["actions"]
    assert "unchanged" in again  # a new delivery of the same launch: its process exists

    wrong = await post_event(app_client, event | {"id": "evt-3"}, secret="not-the-secret")
    assert wrong.status_code == 401


async def test_an_event_without_a_type_or_with_bad_params_is_refused_and_kept_in_the_trail(
    app_client: httpx.AsyncClient,
) -> None:
    untyped = await post_event(app_client, {"id": "evt-4"}, delivery="msg_untyped")
    assert (untyped.status_code, untyped.json()["detail"]) == (400, "not a events event: no type")
    response = await post_event(app_client, {"type": "launch.requested", "id": "evt-5", "product": "X"})
    assert response.status_code == 422, response.text
    answer = response.json()
    [action] = answer["actions"]
    assert answer["status"] == "refused" and "refused" in action and "launch_date" in action["refused"]
    assert answer["detail"].startswith("event refused: rule launch-from-event: params.owner: ")
    assert (await post_event(app_client, {"type": "nobody.cares", "id": "evt-6"})).json()["actions"] == []

    kept = (await app_client.get("/api/audit", params={"kind": "event_refused"})).json()["events"]
    assert [(e["process_id"], e["channel"], e["status"]) for e in kept] == [("hooks-events", "system", "refused")] * 2
    assert kept[0]["details"] == {"delivery": "msg_untyped", "reason": "not a events event: no type"}
    assert kept[1]["details"]["type"] == "launch.requested" and kept[1]["details"]["actions"] == [action]
    assert [e["seq"] for e in kept] == [1, 2], "a hash chain of its own"


async def test_a_signed_jira_event_a_rule_cannot_apply_is_422_and_kept(app_client: httpx.AsyncClient) -> None:
    body = issue_event("LAUNCH-77", [], "Ready for launch", "indeterminate", summary="No date")  # no duedate, owner

    response = await post(app_client, body, "delivery-refused")

    assert response.status_code == 422, response.text
    assert response.json()["status"] == "refused" and "rule launch-from-jira" in response.json()["detail"]
    [kept] = (await app_client.get("/api/audit", params={"kind": "event_refused"})).json()["events"]
    assert (kept["process_id"], kept["actor"], kept["channel"]) == (
        "hooks-jira",
        "jira:5b10ac8d82e05b22cc7d4ef5",
        "jira",
    )


def launch_event(today: date, product: str) -> dict[str, Any]:
    return {
        "type": "launch.requested",
        "product": product,
        "launch_date": (today + timedelta(days=10)).isoformat(),
        "owner": "pm@example.com",
        "approvers": ["vp@example.com"],
    }


async def test_a_captured_event_replayed_changes_nothing_and_under_a_new_id_is_refused(
    app_client: httpx.AsyncClient, today: date
) -> None:
    body = json.dumps(launch_event(today, "Acme Captured")).encode()
    captured = standard_headers(body, delivery="msg_captured")
    first = await app_client.post("/hooks/events", content=body, headers=captured)
    assert first.json()["status"] == "accepted", first.text

    replayed = await app_client.post("/hooks/events", content=body, headers=captured)
    renamed = await app_client.post("/hooks/events", content=body, headers=captured | {"webhook-id": "msg_new"})

    assert replayed.json() == {"status": "duplicate", "delivery": "msg_captured"}
    assert renamed.status_code == 401  # the id is signed: a new one needs the secret
    assert "webhook-signature does not match" in renamed.json()["detail"]


async def test_an_event_signed_too_long_ago_is_refused_with_a_sentence(
    app_client: httpx.AsyncClient, today: date
) -> None:
    stale = await post_event(app_client, launch_event(today, "Acme Stale"), at=time.time() - 10 * 60)

    assert stale.status_code == 400
    assert stale.json()["detail"].startswith("webhook-timestamp is 10 minutes old")
    assert (await app_client.get("/api/processes")).json() == []


async def test_an_event_signed_the_old_way_is_told_how_to_sign(app_client: httpx.AsyncClient, today: date) -> None:
    body = json.dumps(launch_event(today, "Acme Old Way")).encode()
    headers = {"content-type": "application/json", "x-hub-signature": signed(body, EVENTS_SECRET)}

    response = await app_client.post("/hooks/events", content=body, headers=headers)

    assert response.status_code == 401
    assert "Standard Webhooks" in response.json()["detail"]


async def test_a_standard_webhooks_secret_signs_events(stack: Stack, today: date) -> None:
    secret = "whsec_" + base64.b64encode(b"a random key of twenty-four+ bytes").decode()
    async with client_of(stack, today, events_secret=secret) as client:
        taken = await post_event(client, launch_event(today, "Acme Whsec"), secret=secret)
        refused = await post_event(client, launch_event(today, "Acme Whsec"), secret=EVENTS_SECRET)

    assert taken.json()["status"] == "accepted", taken.text
    assert refused.status_code == 401
