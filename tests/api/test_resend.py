"""A message that could not be delivered, through the web: listed on the process, sent again from page or API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import Role
from integrations.store import Store
from tests.api.conftest import bearer
from tests.api.helpers import OWNER, launch_params, wait_until_idle
from tests.conftest import PUBLIC_URL, Stack, running_stack
from tests.workflows.test_launch_delivery_failures import BouncingMailer

DOCS = "docs@example.com"


@pytest.fixture
def mailers() -> list[BouncingMailer]:
    """The mail relay the stack's worker sends through, once built."""
    return []


@pytest.fixture
async def stack(env: WorkflowEnvironment, tmp_path: Path, mailers: list[BouncingMailer]) -> AsyncIterator[Stack]:
    """The usual stack, whose mail relay refuses the docs owner's address until told otherwise."""

    def bouncing(store: Store) -> BouncingMailer:
        mailers.append(BouncingMailer(store, DOCS))
        return mailers[-1]

    async with running_stack(env, tmp_path, mailer=bouncing) as running:
        yield running


async def started(app_client: httpx.AsyncClient, today: date) -> str:
    response = await app_client.post(
        "/api/processes", json={"kind": "launch", "params": launch_params(today + timedelta(days=30))}
    )
    assert response.status_code == 201, response.text
    pid: str = response.json()["id"]
    await wait_until_idle(app_client, pid)
    return pid


async def test_the_page_lists_what_was_not_delivered_and_sends_it_again(
    app_client: httpx.AsyncClient, stack: Stack, today: date, mailers: list[BouncingMailer]
) -> None:
    pid = await started(app_client, today)
    [undelivered] = (await app_client.get(f"/api/processes/{pid}")).json()["undelivered"]
    assert undelivered["to"] == [DOCS] and "550" in undelivered["error"]

    page = await app_client.get(f"/processes/{pid}")
    assert "Not delivered" in page.text and "Send again" in page.text and undelivered["key"] in page.text

    mailers[0].bounces = "nobody@example.com"  # the mailbox exists now
    resent = await app_client.post(
        f"/processes/{pid}/resend", data={"key": undelivered["key"]}, headers={"Origin": PUBLIC_URL}
    )
    assert resent.status_code == 303 and resent.headers["location"] == f"/processes/{pid}"
    assert f"Sending again: email {DOCS}" in (await app_client.get(f"/processes/{pid}")).text, "the page says so"

    for _ in range(200):
        if not (await app_client.get(f"/api/processes/{pid}")).json()["undelivered"]:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the message stayed undelivered")
    assert any(e.to == [DOCS] and e.key == undelivered["key"] for e in stack.outbox(pid))


async def test_resending_is_the_owners_and_names_what_is_wrong(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    pid = await started(app_client, today)
    [undelivered] = (await app_client.get(f"/api/processes/{pid}")).json()["undelivered"]

    unknown = await app_client.post(f"/api/processes/{pid}/resend", json={"key": "no-such-key"})
    empty = await app_client.post(f"/api/processes/{pid}/resend", json={"key": ""})
    viewer = await app_client.post(
        f"/api/processes/{pid}/resend", json={"key": undelivered["key"]},
        headers=bearer(stack, "viewer@example.com", Role.VIEWER),
    )  # fmt: skip
    owner = await app_client.post(
        f"/api/processes/{pid}/resend", json={"key": undelivered["key"]}, headers=bearer(stack, OWNER, Role.MEMBER)
    )
    await app_client.post(f"/api/processes/{pid}/cancel", json={"reason": "moved"})
    ended = await app_client.post(f"/api/processes/{pid}/resend", json={"key": undelivered["key"]})

    assert unknown.status_code == 404 and "no undelivered message 'no-such-key'" in unknown.json()["detail"]
    assert empty.status_code == 422
    assert viewer.status_code == 403
    assert owner.status_code == 202 and owner.json()["resending"] is True
    # cancelled and still winding down, the process refuses it; once it has ended, Temporal's answer does
    assert ended.status_code == 409
    assert re.search(r"it sends nothing any more|has already finished", ended.json()["detail"]), ended.text
