"""Oversized starts through the real app: a 422 naming the field, answered at once, nothing started."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any

import httpx

from domain.models import MAX_APPROVERS
from tests.api.helpers import launch_params

LOOSELY = 5.0
"""Seconds a refusal may take on a noisy machine (four test processes on two cores); before the limits, 100,000
approvers took minutes."""


async def start(client: httpx.AsyncClient, kind: str, params: dict[str, Any]) -> tuple[httpx.Response, float]:
    """POST a start; the answer and how long it took."""
    began = time.perf_counter()
    response = await client.post("/api/processes", json={"kind": kind, "params": params})
    return response, time.perf_counter() - began


def refusals(response: httpx.Response) -> dict[tuple[str, ...], str]:
    """A 422's errors: field location → message."""
    assert response.status_code == 422, response.text[:500]
    return {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}


async def test_100000_approvers_are_a_422_naming_the_field_at_once(app_client: httpx.AsyncClient, today: date) -> None:
    approvers = [f"approver{n}@example.com" for n in range(100_000)]  # the probe: 2.5 MB of JSON
    assert len(json.dumps(approvers)) > 2_500_000

    response, took = await start(app_client, "launch", launch_params(today + timedelta(days=30), approvers=approvers))

    assert refusals(response) == {
        ("params", "approvers"): f"List should have at most {MAX_APPROVERS} items after validation, not 100000"
    }
    assert took < LOOSELY, f"{took:.2f} s"
    assert (await app_client.get("/api/processes")).json() == []


async def test_a_megabyte_channel_is_a_422_naming_the_field(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30), channel="#" + "x" * 999_000)  # well under the body cap

    response, took = await start(app_client, "launch", params)

    assert refusals(response) == {("params", "channel"): "String should have at most 100 characters"}
    assert took < LOOSELY, f"{took:.2f} s"


async def test_100000_action_items_are_a_422_naming_the_list_without_sending_it_back(
    app_client: httpx.AsyncClient,
) -> None:
    """The refusal names the list and its limit; what was sent (4 MB) is not echoed back (it was, whole)."""
    items = [{"title": f"A{n}", "owner": "s@e.co"} for n in range(100_000)]  # 3.7 MB: under the 4 MB cap
    began = time.perf_counter()
    response = await app_client.post("/api/processes/postmortem-none/action-items", json={"items": items})
    took = time.perf_counter() - began

    assert refusals(response) == {("body", "items"): "List should have at most 50 items after validation, not 100000"}
    assert len(response.content) < 1000, "the refusal carries what was sent"
    assert took < LOOSELY
