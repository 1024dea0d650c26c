"""A customer message through HTTP: start, review pages, revisions, decisions bound to a version."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.enums import Decision
from domain.updates import DecisionInput
from tests.api.conftest import bearer
from tests.api.helpers import (
    audit,
    eventually,
    forms_of,
    launch_params,
    link_pattern,
    path_of,
    start,
    text_of,
    view,
    wait_for_action,
)
from tests.conftest import PUBLIC_URL, Stack
from workflows.comms import CommsWorkflow

OWNER, CS, ENG = "pm@example.com", "cs@example.com", "eng@example.com"
BODY = "We upgrade **Acme** on Sunday.\n\n- Dashboards: read-only\n- Exports: paused\n\n<b>not bold</b>"


def comms_params(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "subject": f"Maintenance {uuid.uuid4().hex[:8]}",
        "body": BODY,
        "audience": ["ana@customer.example", "bo@customer.example"],
        "reviewers": [{"email": CS, "role": "Customer Success"}, "eng@example.com:Engineering"],
        "owner": OWNER,
    }
    return params | changes


async def start_comms(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/processes", json={"kind": "comms", "params": comms_params(**changes)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def review_links(
    client: httpx.AsyncClient, pid: str, round: int = 1, public_url: str = PUBLIC_URL
) -> dict[str, str]:
    """Each reviewer's newest review link (under `public_url`), once round `round` has asked them."""

    async def asked() -> list[dict[str, Any]] | None:
        events = await audit(client, pid)
        requested = [e for e in events if e["action"] == "review_requested" and e["details"]["round"] == round]
        sent = [
            e for e in events if e["action"] == "message_sent" and e["details"]["template"].startswith("comms_review")
        ]
        # every request out, by email and in chat: no activity is in flight after this
        return events if requested and len(sent) >= 4 * round else None

    await eventually(asked, f"review round {round}")
    outbox = (await client.get("/api/outbox", params={"process": pid})).json()
    links: dict[str, str] = {}
    link = link_pattern(public_url)
    for entry in outbox:
        found = link.search(entry["body"])
        if found and entry["channel"] == "email":
            links[entry["to"][0]] = found.group(0)
    return links


async def test_start_answers_with_the_steps_of_a_message(app_client: httpx.AsyncClient) -> None:
    started = await start_comms(app_client)

    assert started["kind"] == "comms" and started["status"] == "running"
    assert started["title"] == f"Message: {started['params']['subject']}"
    assert [s["key"] for s in started["steps"]] == ["review", "scheduled", "send"]
    await review_links(app_client, started["id"])
    pending = (await view(app_client, started["id"]))["pending"]
    assert [(p["gate"], p["approver"]) for p in pending] == [("review", CS), ("review", ENG)]
    assert started["params"]["reviewers"] == [
        {"email": CS, "role": "Customer Success"},
        {"email": ENG, "role": "Engineering"},
    ]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"audience": ["not-an-address"]}, ["params", "audience", 0], "not a valid email"),
        ({"channels": ["email", "fax"]}, ["params", "channels"], "neither email nor a chat channel"),
        ({"reviewers": []}, ["params", "reviewers"], "at least 1"),
        ({"reviewers": [OWNER]}, ["params", "reviewers"], "cannot review their own message"),
        ({"send_at": "2001-01-01T09:00:00+00:00"}, ["params", "send_at"], "is in the past"),
        ({"time_zone": "Mars/Base"}, ["params", "time_zone"], "not a time zone"),  # a naive send_at is read in it
        ({"policy": 3}, ["params", "policy"], "quorum"),
        ({"body": ""}, ["params", "body"], "at least 1"),
    ],
    ids=["audience", "channel", "no-reviewers", "owner-reviews", "past", "zone", "quorum", "empty-body"],
)
async def test_bad_parameters_are_422_naming_the_field(
    app_client: httpx.AsyncClient, changes: dict[str, Any], field: list[Any], says: str
) -> None:
    response = await app_client.post("/api/processes", json={"kind": "comms", "params": comms_params(**changes)})

    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["detail"] if e["loc"] == field]
    assert says in error["msg"]


async def test_the_review_page_shows_the_rendered_message_and_its_hash(app_client: httpx.AsyncClient) -> None:
    pid = (await start_comms(app_client))["id"]
    links = await review_links(app_client, pid)
    process = await view(app_client, pid)

    page = await app_client.get(path_of(links[CS]))

    assert page.status_code == 200
    assert "<strong>Acme</strong>" in page.text and "<li>Dashboards: read-only</li>" in page.text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page.text, "raw HTML in the Markdown is shown, not obeyed"
    text = text_of(page.text)
    assert f"content hash {process['content']['content_hash'][:12]}" in text
    assert "asks you (Customer Success) to review this message before it goes to 2 recipients" in text
    assert "Approve: send this text" in text and "Request changes" in text


async def test_a_decision_on_the_page_is_bound_to_the_version_shown(app_client: httpx.AsyncClient) -> None:
    pid = (await start_comms(app_client))["id"]
    links = await review_links(app_client, pid)
    page = await app_client.get(path_of(links[ENG]))
    form = forms_of(page.text)[0]  # the decision (the second hands it on)
    token = next(f["value"] for f in form["fields"] if f["name"] == "form_token")

    decided = await app_client.post(
        path_of(links[ENG]), data={"decision": "approve", "comment": "Accurate.", "form_token": token}
    )

    assert decided.status_code == 200, decided.text
    events = await wait_for_action(app_client, pid, "decision")
    [decision] = [e for e in events if e["action"] == "decision"]
    process = await view(app_client, pid)
    assert decision["details"]["content_hash"] == process["content"]["content_hash"]
    assert (decision["actor"], decision["channel"], decision["details"]["version"]) == (ENG, "link", 1)


async def test_a_revision_makes_a_new_version_and_retires_the_old_links(
    app_client: httpx.AsyncClient, stack: Stack
) -> None:
    pid = (await start_comms(app_client))["id"]
    old = await review_links(app_client, pid)

    response = await app_client.post(
        f"/api/processes/{pid}/revisions",
        json={"body": BODY + "\n\nUntil 04:00 UTC.", "comment": "End time added"},
        headers=bearer(stack, OWNER),
    )

    assert response.status_code == 201, response.text
    version = response.json()
    assert (version["version"], version["by"], version["comment"]) == (2, f"{OWNER} (token test-0)", "End time added")
    new = await review_links(app_client, pid, round=2)
    assert new[CS] != old[CS]
    assert (await app_client.get(path_of(old[CS]))).status_code == 410
    assert "version 2" in text_of((await app_client.get(path_of(new[CS]))).text)
    assert (await view(app_client, pid))["content"]["version"] == 2


async def test_an_unchanged_revision_is_409(app_client: httpx.AsyncClient) -> None:
    pid = (await start_comms(app_client))["id"]
    await review_links(app_client, pid)

    response = await app_client.post(f"/api/processes/{pid}/revisions", json={"body": BODY})

    assert response.status_code == 409
    assert "version 1 unchanged" in response.json()["detail"]


async def test_a_launch_takes_no_revisions(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]

    response = await app_client.post(f"/api/processes/{pid}/revisions", json={"body": "New text"})

    assert response.status_code == 409, response.text
    assert response.json()["detail"] == f"process {pid} is a launch: it takes no revisions"


async def test_a_scheduled_message_can_be_cancelled(app_client: httpx.AsyncClient, now: datetime) -> None:
    send_at = (now + timedelta(days=20)).replace(microsecond=0)
    pid = (await start_comms(app_client, send_at=send_at.isoformat()))["id"]
    await review_links(app_client, pid)

    response = await app_client.post(f"/api/processes/{pid}/cancel", json={"reason": "Moved to January."})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert [s["status"] for s in response.json()["steps"]] == ["skipped", "skipped", "skipped"]


async def test_the_evidence_report_says_who_approved_which_version_and_what_went_out(
    app_client: httpx.AsyncClient, stack: Stack
) -> None:
    pid = (await start_comms(app_client))["id"]
    await review_links(app_client, pid)
    handle = stack.client.get_workflow_handle(pid)
    for reviewer in (CS, ENG):
        await handle.execute_update(
            CommsWorkflow.decide, DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )
    await wait_for_action(app_client, pid, "completed")
    content_hash = (await view(app_client, pid))["content"]["content_hash"]

    markdown = await app_client.get(f"/api/processes/{pid}/evidence")
    html = await app_client.get(f"/api/processes/{pid}/evidence", params={"format": "html"})

    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    report = markdown.text
    assert report.startswith("# Evidence: Message: ")
    assert "the hash chain **verifies**" in report
    assert "| 1 | " in report and f"`{content_hash}`" in report
    decisions = [line for line in report.splitlines() if "**approved**" in line]
    assert len(decisions) == 2 and all(content_hash[:12] in line for line in decisions)
    assert {CS, ENG} == {line.split(" | ")[1] for line in decisions}
    assert "| comms_message | " not in report and "2 of 2 sent" in report
    assert "- audience: ana@customer.example, bo@customer.example\n" in report
    reviewers = "email: cs@example.com, role: Customer Success; email: eng@example.com, role: Engineering"
    assert f"- reviewers: {reviewers}\n" in report
    assert "- send_at: —\n" in report and "None" not in report
    assert html.status_code == 200 and "<h1>Evidence: Message: " in html.text


async def test_the_evidence_report_of_an_unknown_process_is_404(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/processes/comms-nothing-here/evidence")

    assert response.status_code == 404
