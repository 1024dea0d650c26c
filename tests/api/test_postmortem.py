"""A post-mortem through HTTP: started by hand or by a resolved Jira incident, action items, won't-do."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.conftest import bearer
from tests.api.helpers import eventually, launch_params, start, view, wait_for_action
from tests.api.test_hooks import issue_event, post
from tests.conftest import Stack

IC, CTO, SRE = "ic@example.com", "cto@example.com", "sre@example.com"


def postmortem_params(now: datetime, **changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "incident": f"INC-{uuid.uuid4().hex[:6]}",
        "title": "Checkout errors",
        "severity": "SEV1",
        "commander": IC,
        "reviewers": [CTO],
        "resolved_at": (now - timedelta(hours=2)).isoformat(),
    }
    return params | changes


async def start_postmortem(client: httpx.AsyncClient, now: datetime, **changes: Any) -> dict[str, Any]:
    params = postmortem_params(now, **changes)
    response = await client.post("/api/processes", json={"kind": "postmortem", "params": params})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def kicked_off(client: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    await wait_for_action(client, pid, "message_sent")
    return await view(client, pid)


async def test_start_by_hand(app_client: httpx.AsyncClient, now: datetime) -> None:
    started = await start_postmortem(app_client, now, incident="INC-7")

    assert started["id"] == "postmortem-inc-7"
    assert started["title"] == "Post-mortem: SEV1 INC-7 — Checkout errors"
    assert started["owner"] == IC, "the commander owns it unless someone else is named"
    assert [s["key"] for s in started["steps"]] == ["draft", "review", "actions", "published"]
    process = await kicked_off(app_client, started["id"])
    [draft] = process["items"]
    assert draft["key"] == "draft" and draft["owner"] == IC


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"severity": "SEV9"}, ["params", "severity"], "SEV1"),
        ({"reviewers": [IC]}, ["params", "reviewers"], "cannot review their own post-mortem"),
        (
            {"owner": "im@example.com", "reviewers": ["cto@example.com", "im@example.com"]},
            ["params", "reviewers"],
            "the owner im@example.com cannot review their own post-mortem",
        ),
        ({"resolved_at": "2099-01-01T00:00:00+00:00"}, ["params", "resolved_at"], "in the future"),
        ({"resolved_at": "yesterday"}, ["params", "resolved_at"], "datetime"),
        ({"commander": "nobody"}, ["params", "commander"], "not a valid email"),
    ],
    ids=["severity", "commander-reviews", "owner-reviews", "future", "not-a-time", "commander"],
)
async def test_bad_parameters_are_422_naming_the_field(
    app_client: httpx.AsyncClient, now: datetime, changes: dict[str, Any], field: list[Any], says: str
) -> None:
    params = postmortem_params(now, **changes)
    response = await app_client.post("/api/processes", json={"kind": "postmortem", "params": params})

    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["detail"] if e["loc"] == field]
    assert says in error["msg"]


async def test_action_items_are_filed_and_one_is_accepted_as_wont_do(
    app_client: httpx.AsyncClient, stack: Stack, now: datetime
) -> None:
    pid = (await start_postmortem(app_client, now))["id"]
    await kicked_off(app_client, pid)

    response = await app_client.post(
        f"/api/processes/{pid}/action-items",
        json={"items": [{"title": "Alert on error rate", "owner": SRE, "priority": "P1"}]},
        headers=bearer(stack, IC),
    )

    assert response.status_code == 201, response.text
    [item] = response.json()
    assert (item["key"], item["owner"], item["priority"], item["status"]) == ("action-1", SRE, "P1", "open")
    assert item["issue_key"] is None, "the answer comes once the item is recorded; its issue is filed beside"

    async def filed() -> str | None:
        [_, action] = (await view(app_client, pid))["items"]
        key: str | None = action["issue_key"]
        return key

    assert await eventually(filed, "the action item's issue to show on the process")
    no_reason = await app_client.post(f"/api/processes/{pid}/items/action-1/done", json={"resolution": "wont_do"})
    assert no_reason.status_code == 409 and "a reason is required" in no_reason.json()["detail"]
    wont = await app_client.post(
        f"/api/processes/{pid}/items/action-1/done", json={"resolution": "wont_do", "reason": "Covered by SLOs."}
    )
    assert wont.status_code == 200, wont.text
    assert (wont.json()["status"], wont.json()["note"]) == ("wont_do", "Covered by SLOs.")
    events = await wait_for_action(app_client, pid, "item_wont_do")  # the answer comes before the trail is written
    [added] = [e for e in events if e["action"] == "action_item_added"]
    assert added["actor"] == f"{IC} (token test-0)" and added["details"]["priority"] == "P1"
    assert added["channel"] == "api"
    assert any(e["action"] == "item_wont_do" and e["details"]["reason"] == "Covered by SLOs." for e in events)


async def test_bad_action_items_are_422(app_client: httpx.AsyncClient, now: datetime) -> None:
    pid = (await start_postmortem(app_client, now))["id"]

    response = await app_client.post(
        f"/api/processes/{pid}/action-items", json={"items": [{"title": "x", "owner": SRE, "priority": "P7"}]}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "items", 0, "priority"]


async def test_a_launch_takes_no_action_items(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]

    response = await app_client.post(
        f"/api/processes/{pid}/action-items", json={"items": [{"title": "x", "owner": SRE}]}
    )

    assert response.status_code == 409
    assert response.json()["detail"] == f"process {pid} is a launch: it takes no action items"


async def test_an_incident_resolved_in_jira_starts_its_post_mortem_once(
    app_client: httpx.AsyncClient, now: datetime
) -> None:
    key = f"OPS-{uuid.uuid4().int % 10_000}"
    fields = {
        "issuetype": {"name": "Incident"},
        "summary": "Search down in eu-west",
        "customfield_10060": {"value": "SEV2"},
        "assignee": {"emailAddress": IC},
        "reporter": {"emailAddress": CTO},
        "resolutiondate": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }
    body = issue_event(key, [], "Resolved", "done", **fields)

    first = await post(app_client, body, f"pm-{key}-1")
    again = await post(app_client, body, f"pm-{key}-2")  # the same signed body: the same delivery
    edited = await post(app_client, issue_event(key, [], "Resolved", "done", **fields), f"pm-{key}-3")  # a new change

    started = next(a for a in first.json()["actions"] if a["rule"] == "postmortem-from-jira")
    assert started["started"] == f"postmortem-{key.lower()}"
    assert again.json()["status"] == "duplicate"
    assert "unchanged" in next(a for a in edited.json()["actions"] if a["rule"] == "postmortem-from-jira")

    async def running() -> dict[str, Any] | None:
        response = await app_client.get(f"/api/processes/{started['started']}")
        return response.json() if response.status_code == 200 else None

    process = await eventually(running, "the post-mortem to run")
    assert process["params"]["severity"] == "SEV2" and process["params"]["commander"] == IC
    assert process["title"] == f"Post-mortem: SEV2 {key} — Search down in eu-west"
