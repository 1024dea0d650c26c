"""POST /api/processes/{id}/cancel: the process ends and the people involved are told."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.api.helpers import (
    APPROVERS,
    OWNER,
    audit,
    eventually,
    forms_of,
    launch_params,
    path_of,
    start,
    text_of,
    view,
    wait_closed,
    wait_for_action,
    wait_until_idle,
)
from tests.conftest import PUBLIC_URL, Stack

REASON = "Market research says wait for the spring"


async def ended_email(client: httpx.AsyncClient, pid: str) -> dict[str, Any] | None:
    """The 'ended' email of `pid` in the outbox, if it is there."""
    outbox = (await client.get("/api/outbox", params={"process": pid})).json()
    found = [e for e in outbox if e["channel"] == "email" and e["subject"].startswith("Launch of ")]
    assert len(found) <= 1, found
    return found[0] if found else None


async def cancel(client: httpx.AsyncClient, pid: str, reason: str = REASON) -> httpx.Response:
    return await client.post(
        f"/api/processes/{pid}/cancel", json={"reason": reason}, headers={"X-Signoff-Actor": OWNER}
    )


async def test_cancel_ends_the_process_and_tells_everyone(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30))
    pid = (await start(app_client, params))["id"]
    await wait_until_idle(app_client, pid)

    response = await cancel(app_client, pid)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == pid
    assert body["status"] == "cancelled"
    assert body["outcome"] == REASON
    assert {s["key"]: s["status"] for s in body["steps"]} == {
        "kickoff": "done", "checklist": "skipped", "go-no-go": "skipped", "launch-day": "skipped",
    }
    assert body["gates"][0]["status"] == "closed"

    email = await eventually(lambda: ended_email(app_client, pid), "the 'ended' email")
    assert email["subject"] == f"Launch of {params['product']} cancelled"
    assert set(email["to"]) >= {OWNER, *APPROVERS, "docs@example.com", "support@example.com"}
    assert REASON in email["body"]
    assert f"cancelled by {OWNER}" in email["body"]
    (event,) = [e for e in await wait_for_action(app_client, pid, "cancelled") if e["action"] == "cancelled"]
    assert (event["actor"], event["details"]["reason"]) == (OWNER, REASON)
    assert (await view(app_client, pid))["status"] == "cancelled"


@pytest.mark.xfail(
    reason="BUG: LaunchWorkflow.cancel/Processes.cancel say they return once the clean-up has run, "
    "but the update returns as soon as the status is set, before wind_down sends the 'ended' email",
    strict=True,
)
async def test_cancel_returns_after_the_people_are_told(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)

    response = await cancel(app_client, pid)

    assert response.status_code == 200, response.text
    email = await ended_email(app_client, pid)
    assert email is not None and REASON in email["body"]


@pytest.mark.xfail(
    reason="BUG: workflows/launch.py LaunchWorkflow.run catches only asyncio.CancelledError; a cancel while "
    "an activity runs (the kickoff) surfaces as ActivityError, so the workflow fails and the API answers 422",
    strict=True,
)
async def test_cancel_during_kickoff_runs_the_clean_up(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]

    response = await cancel(app_client, pid)

    assert await wait_closed(stack, pid) == WorkflowExecutionStatus.COMPLETED
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await eventually(lambda: ended_email(app_client, pid), "the 'ended' email")


@pytest.mark.xfail(
    reason="BUG: api/service.py _translate_rpc tells a finished process from a missing one by the text of "
    "Temporal's NOT_FOUND message; the test server says 'update <id> not found', so it answers 404",
    strict=True,
)
async def test_second_cancel_is_409(app_client: httpx.AsyncClient, stack: Stack, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    assert (await cancel(app_client, pid)).status_code == 200
    assert await wait_closed(stack, pid) == WorkflowExecutionStatus.COMPLETED

    again = await cancel(app_client, pid, "twice")

    assert [e["action"] for e in await audit(app_client, pid)].count("cancelled") == 1
    assert again.status_code == 409, again.text


async def test_cancel_of_an_unknown_process_is_404(app_client: httpx.AsyncClient) -> None:
    response = await cancel(app_client, "launch-nothing-here-2030-01-01")

    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "no process with id launch-nothing-here-2030-01-01"}


async def test_cancel_closes_the_gate_for_approvers(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today)))["id"]
    await wait_for_action(app_client, pid, "approval_requested")
    outbox = (await app_client.get("/api/outbox", params={"process": pid})).json()
    link = next(
        w for e in outbox if e["to"] == [APPROVERS[0]] for w in e["body"].split() if w.startswith(f"{PUBLIC_URL}/approve/")
    )

    assert (await cancel(app_client, pid)).status_code == 200

    shown = await app_client.get(path_of(link))
    assert shown.status_code == 200, shown.text
    assert "This gate is closed and takes no more decisions." in text_of(shown.text)
    assert forms_of(shown.text) == []
