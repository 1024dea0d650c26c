"""POST /api/processes/{id}/cancel: the process ends and the people involved are told."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.api.conftest import bearer
from tests.api.helpers import (
    APPROVERS,
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
    wait_closed,
    wait_for_action,
    wait_until_idle,
)
from tests.conftest import Stack

REASON = "Market research says wait for the spring"


async def ended_email(client: httpx.AsyncClient, pid: str) -> dict[str, Any] | None:
    """The 'ended' email of `pid` in the outbox, if it is there."""
    product = (await view(client, pid))["params"]["product"]
    outbox = (await client.get("/api/outbox", params={"process": pid})).json()
    found = [e for e in outbox if e["channel"] == "email" and e["subject"] == f"Launch of {product} cancelled"]
    assert len(found) <= 1, found
    return found[0] if found else None


async def cancel(
    client: httpx.AsyncClient, pid: str, reason: str = REASON, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Cancel `pid` (as dev mode's admin, unless `headers` say who)."""
    return await client.post(f"/api/processes/{pid}/cancel", json={"reason": reason}, headers=headers)


async def test_cancel_ends_the_process_and_tells_everyone(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    params = launch_params(today + timedelta(days=30))
    pid = (await start(app_client, params))["id"]
    await wait_until_idle(app_client, pid)

    response = await cancel(app_client, pid, headers=bearer(stack, OWNER))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == pid
    assert body["status"] == "cancelled"
    assert body["outcome"] == REASON
    assert {s["key"]: s["status"] for s in body["steps"]} == {
        "kickoff": "done",
        "checklist": "skipped",
        "go-no-go": "skipped",
        "launch-day": "skipped",
    }
    assert body["gates"][0]["status"] == "closed"

    email = await eventually(lambda: ended_email(app_client, pid), "the 'ended' email")
    assert email["subject"] == f"Launch of {params['product']} cancelled"
    assert set(email["to"]) >= {OWNER, *APPROVERS, "docs@example.com", "support@example.com"}
    assert REASON in email["body"]
    assert f"cancelled by {OWNER}." in email["body"] and "test-0" not in email["body"]  # the trail keeps the token
    (event,) = [e for e in await wait_for_action(app_client, pid, "cancelled") if e["action"] == "cancelled"]
    assert (event["actor"], event["details"]["reason"]) == (f"{OWNER} (token test-0)", REASON)
    assert (await view(app_client, pid))["status"] == "cancelled"


async def test_cancel_during_kickoff_runs_the_clean_up(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    """A cancel that lands while the kickoff's activities run still cleans up."""
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]

    request = asyncio.create_task(cancel(app_client, pid))
    done, _ = await asyncio.wait({request}, timeout=10)
    if not done:
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)
        # temporalio/sdk-java#2391: cancelling an activity in the workflow task
        # where it completes leaves the time-skipping test server stuck
        # (ACTIVITY_UNKNOWN); the official server carries on.
        pytest.xfail("the time-skipping test server's ACTIVITY_UNKNOWN bug (sdk-java#2391) hit this run")
    response = request.result()

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await wait_closed(stack, pid) == WorkflowExecutionStatus.COMPLETED
    assert await eventually(lambda: ended_email(app_client, pid), "the 'ended' email")
    assert "cancelled" in [e["action"] for e in await audit(app_client, pid)]


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
    link = (await approval_links(app_client, pid))[APPROVERS[0]]

    assert (await cancel(app_client, pid)).status_code == 200

    shown = await app_client.get(path_of(link))
    assert shown.status_code == 200, shown.text
    assert "This gate is closed and takes no more decisions." in text_of(shown.text)
    assert forms_of(shown.text) == []
