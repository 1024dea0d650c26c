"""``POST /api/plans`` and the start form's Preview button: a whole process previewed, nothing started or sent.

Each preview runs on a time-skipping test server of its own (`workers.preview`), not on the stack's: the
stack's store, outbox and Temporal must see nothing of it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta

import httpx
import pytest
from temporalio.service import RPCError

from config.templates import load_template
from domain.templates import LaunchTemplate
from tests.api.helpers import launch_id, launch_params, text_of
from tests.conftest import PUBLIC_URL, Stack
from workers import preview

PREVIEW = {"patience": 150.0}
"""A request that runs a preview may take longer than the suite's usual bound (tests/api/conftest.py): a whole
launch, a month of it, on a loaded machine."""


@pytest.fixture(autouse=True)
async def no_preview_running() -> None:
    """Wait until no preview runs (one a test gave up on may still be finishing), so each test starts clear."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PREVIEW["patience"]
    while not preview._RUNNING.acquire(blocking=False):
        assert loop.time() < deadline, "a preview still runs after its patience"
        await asyncio.sleep(0.1)
    preview._RUNNING.release()


LAUNCH = load_template("launch")
assert isinstance(LAUNCH, LaunchTemplate)
GATE_DAYS = LAUNCH.gate.offset_days


async def nothing_of(stack: Stack, process_id: str) -> None:
    """The stack never heard of `process_id`: no trail, no outbox entry, no workflow."""
    assert stack.trail(process_id) == [] and stack.outbox(process_id) == []
    with pytest.raises(RPCError):
        await stack.client.get_workflow_handle(process_id).describe()


async def test_a_launch_is_previewed_day_by_day_and_nothing_starts(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    params = launch_params(today + timedelta(days=30))

    response = await app_client.post("/api/plans", json={"kind": "launch", "params": params}, extensions=PREVIEW)

    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["id"] == launch_id(params) and plan["kind"] == "launch"
    assert plan["assumes"] == "assuming every approver approves when asked and no item is marked done"
    timeline = plan["timeline"]
    days = [datetime.fromisoformat(e["at"]).date() for e in timeline]
    assert days == sorted(days)
    asked = [e for e in timeline if e["channel"] == "email" and e["subject"].startswith("Go / no-go")]
    assert {who for e in asked for who in e["to"]} == set(params["approvers"])
    gate_day = {datetime.fromisoformat(e["at"]).date() for e in asked}
    launch_day = date.fromisoformat(params["launch_date"])
    assert len(gate_day) == 1 and (launch_day - gate_day.pop()).days == GATE_DAYS
    [announced] = [e for e in timeline if e["channel"] == "email" and e["subject"].endswith("is launched")]
    assert datetime.fromisoformat(announced["at"]).date() == launch_day
    assert all(f"{PUBLIC_URL}/approve/" in e["body"] for e in asked), "links name the service, signed by no key of it"
    await nothing_of(stack, plan["id"])


async def test_a_plan_refuses_what_a_start_refuses(app_client: httpx.AsyncClient, today: date) -> None:
    past = launch_params(today - timedelta(days=1))
    unknown = await app_client.post("/api/plans", json={"kind": "nope", "params": {}})
    refused = await app_client.post("/api/plans", json={"kind": "launch", "params": past})

    assert unknown.status_code == 422 and "unknown process kind 'nope'" in unknown.json()["detail"]
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["params", "launch_date"] and "in the past" in error["msg"]


async def test_a_preview_of_a_message_to_thousands_is_refused(app_client: httpx.AsyncClient, today: date) -> None:
    params = {
        "subject": "Maintenance", "body": "x" * 100_000, "reviewers": ["cs@example.com"], "owner": "pm@example.com",
        "audience": [f"c{n}@customer.example" for n in range(10_000)],
        "send_at": f"{today + timedelta(days=3)}T14:00:00+00:00",
    }  # fmt: skip

    refused = await app_client.post("/api/plans", json={"kind": "comms", "params": params})

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["loc"] == ["params", "audience"]
    assert error["msg"] == (
        "a preview shows up to 500 recipients; this one has 10,000 — start it, or preview with fewer"
    )


async def test_one_preview_at_a_time(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30))
    assert preview._RUNNING.acquire(blocking=False), "no preview runs between tests (no_preview_running)"
    try:
        busy = await app_client.post("/api/plans", json={"kind": "launch", "params": params})
    finally:
        preview._RUNNING.release()

    assert busy.status_code == 503 and busy.headers["Retry-After"] == str(round(preview.BUSY_RETRY_AFTER))
    assert "another preview is running" in busy.json()["detail"]


async def test_the_start_forms_preview_shows_the_plan_and_starts_nothing(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    product = f"Previewed {uuid.uuid4().hex[:6]}"
    launch_day = today + timedelta(days=20)
    form = {
        "kind": "launch", "product": product, "launch_date": launch_day.isoformat(), "owner": "pm@example.com",
        "approvers": "vp@example.com\nlegal@example.com", "policy": "all", "preview": "1",
    }  # fmt: skip

    start_form = await app_client.get("/start", params={"kind": "launch"})
    response = await app_client.post("/start", data=form, headers={"Origin": PUBLIC_URL}, extensions=PREVIEW)
    refused = await app_client.post("/start", data=form | {"launch_date": "2020-01-01"}, headers={"Origin": PUBLIC_URL})

    assert 'name="preview"' in start_form.text
    assert response.status_code == 200, response.text
    page = text_of(response.text)
    assert f"Preview: Launch: {product} on {launch_day}" in page
    assert "Assuming every approver approves when asked and no item is marked done." in page
    assert f"{product} is launched" in page and f"{launch_day:%a %Y-%m-%d}" in page
    assert refused.status_code == 422 and "is in the past" in text_of(refused.text), "as a start shows it"
    await nothing_of(stack, f"launch-{product.lower().replace(' ', '-')}-{launch_day}")
