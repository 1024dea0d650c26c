"""The owner's word on a held step over HTTP: ``POST /api/processes/{id}/steps/{step}/recover`` and the page's form.

The launch is started with ``on_reject: owner`` and rejected at its gate, so its go / no-go is held for its owner;
the production rules are on (real tokens): the owner and an admin may give their word, another member may not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from api.auth import Authenticator
from domain.access import Role
from domain.audit import StoredAuditEvent
from domain.enums import Decision
from domain.updates import DecisionInput
from integrations.people import People
from tests.api.conftest import bearer, client_of
from tests.api.helpers import OWNER, eventually
from tests.conftest import Stack
from workflows.launch import LaunchWorkflow

GATE = "go-no-go"
BROWSER = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
async def guarded(stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the production rules on: every request proves who it is."""
    async with client_of(stack, today, auth=Authenticator(People(stack.store.engine))) as client:
        yield client


async def held_launch(stack: Stack, client: httpx.AsyncClient, who: dict[str, str]) -> str:
    """A launch whose go / no-go was rejected and is held for its owner; its id."""
    handle = await stack.start_launch(days_ahead=2, gate={"on_reject": "owner"})

    async def gate_open() -> bool | None:
        return any(e.action == "approval_requested" for e in stack.trail(handle.id)) or None

    await eventually(gate_open, "the gate to open")
    await handle.execute_update(
        LaunchWorkflow.decide,
        DecisionInput(gate=GATE, approver="legal@example.com", decision=Decision.REJECT, comment="Not the name."),
    )

    async def held() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get(f"/api/processes/{handle.id}", headers=who)).json()
        return body if body.get("held") else None

    await eventually(held, "the gate to be held")
    return handle.id


async def recorded(stack: Stack, pid: str, action: str) -> StoredAuditEvent:
    """The trail's one `action` event, once written (the answer comes before the trail's write)."""

    async def probe() -> StoredAuditEvent | None:
        found = [e for e in stack.trail(pid) if e.action == action]
        assert len(found) <= 1
        return found[0] if found else None

    return await eventually(probe, f"{action} in the trail")


def recover(pid: str, step: str = GATE) -> str:
    return f"/api/processes/{pid}/steps/{step}/recover"


async def test_the_owner_gives_their_word_and_others_are_refused(guarded: httpx.AsyncClient, stack: Stack) -> None:
    owner, member = bearer(stack, OWNER, Role.MEMBER), bearer(stack, "member@example.com", Role.MEMBER)
    pid = await held_launch(stack, guarded, owner)
    shown = (await guarded.get(f"/api/processes/{pid}", headers=owner)).json()
    assert shown["held"]["step"] == GATE and shown["held"]["actions"] == ["rerun", "end"]
    assert shown["waiting_on"][0]["person"] == OWNER and "held" in shown["waiting_on"][0]["why"]

    stranger = await guarded.post(recover(pid), json={"action": "rerun", "reason": "Mine now."}, headers=member)
    skipped = await guarded.post(recover(pid), json={"action": "skip", "reason": "Ship it."}, headers=owner)
    blank = await guarded.post(recover(pid), json={"action": "rerun", "reason": " "}, headers=owner)
    unheld = await guarded.post(recover(pid, "kickoff"), json={"action": "rerun", "reason": "Again."}, headers=owner)
    no_action = await guarded.post(recover(pid), json={"reason": "Again."}, headers=owner)

    assert stranger.status_code == 403 and "owner" in stranger.json()["detail"]
    assert skipped.status_code == 409 and "a refused approval is not skipped" in skipped.json()["detail"]
    assert blank.status_code == 422 and "say why you run Go / no-go again" in blank.json()["detail"]
    assert unheld.status_code == 409 and "Kickoff is not held" in unheld.json()["detail"]
    assert no_action.status_code == 422 and "action" in str(no_action.json()["detail"])

    rerun = await guarded.post(recover(pid), json={"action": "rerun", "reason": "Renamed it."}, headers=owner)
    assert rerun.status_code == 200, rerun.text
    assert rerun.json()["held"] is None
    step_rerun = await recorded(stack, pid, "step_rerun")
    assert step_rerun.actor.startswith(OWNER) and (step_rerun.channel, step_rerun.details["reason"]) == (
        "api", "Renamed it.",
    )  # fmt: skip
    again = await guarded.post(recover(pid), json={"action": "end", "reason": "Late."}, headers=owner)
    assert again.status_code == 409 and "is not held" in again.json()["detail"]


async def test_the_held_step_has_a_form_for_its_owner_on_the_page(guarded: httpx.AsyncClient, stack: Stack) -> None:
    owner, member = bearer(stack, OWNER, Role.MEMBER), bearer(stack, "member@example.com", Role.MEMBER)
    pid = await held_launch(stack, guarded, owner)
    page = (await guarded.get(f"/processes/{pid}", headers=owner)).text
    seen_by_member = (await guarded.get(f"/processes/{pid}", headers=member)).text

    assert 'id="held"' in page and "Send my word" in page and "A refused approval is not skipped" in page
    assert 'value="skip"' not in page
    assert 'id="held"' in seen_by_member and "Send my word" not in seen_by_member

    form = f"/processes/{pid}/steps/{GATE}/recover"
    blank = await guarded.post(form, data={"action": "rerun", "reason": ""}, headers=BROWSER | owner)
    foreign = await guarded.post(
        form, data={"action": "end", "reason": "x"}, headers={"Sec-Fetch-Site": "cross-site"} | owner
    )
    ended = await guarded.post(
        form, data={"action": "end", "reason": "Next quarter."}, headers=BROWSER | owner, follow_redirects=False
    )

    assert blank.status_code == 422 and "Not done: reason: say why" in blank.text
    assert foreign.status_code == 403
    assert ended.status_code == 303 and ended.headers["location"] == f"/processes/{pid}"
    step_ended = await recorded(stack, pid, "step_ended")
    assert step_ended.actor.startswith(OWNER) and step_ended.details["reason"] == "Next quarter."
