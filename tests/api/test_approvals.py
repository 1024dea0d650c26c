"""Approval links: GET and HEAD show, the page's form decides (DESIGN.md, "Approval links")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

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
    token_of,
    view,
    wait_for_action,
    wait_for_status,
)
from tests.conftest import Stack

VP, LEGAL = APPROVERS


@dataclass
class Gate:
    """A launch whose go/no-go gate is open, and each approver's link."""

    id: str
    product: str
    links: dict[str, str]

    def path(self, approver: str) -> str:
        return path_of(self.links[approver])


async def open_gate(client: httpx.AsyncClient, today: date, **params: Any) -> Gate:
    """Start a launch on `today`, so its gate (3 days before launch) opens at once."""
    started = await start(client, launch_params(today, **params))
    pid = started["id"]
    links = await approval_links(client, pid)
    return Gate(pid, started["params"]["product"], links)


@pytest.fixture
async def gate(app_client: httpx.AsyncClient, today: date) -> Gate:
    return await open_gate(app_client, today)


def the_form(html: str) -> dict[str, Any]:
    """The one decision form of a confirmation page (the other hands the decision on)."""
    (form,) = [f for f in forms_of(html) if any(field["name"] == "decision" for field in f["fields"])]
    return form


def form_token_of(html: str) -> str:
    (field,) = [f for f in the_form(html)["fields"] if f["name"] == "form_token"]
    value: str = field["value"]
    return value


async def page(client: httpx.AsyncClient, gate: Gate, approver: str) -> str:
    response = await client.get(gate.path(approver))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def decide(
    client: httpx.AsyncClient, gate: Gate, approver: str, decision: str, comment: str = "", **extra: str
) -> httpx.Response:
    """Open the approver's page and post its form, as their browser would."""
    token = form_token_of(await page(client, gate, approver))
    data = {"decision": decision, "comment": comment, "form_token": token} | extra
    return await client.post(gate.path(approver), data=data)


async def decisions(client: httpx.AsyncClient, pid: str) -> list[dict[str, Any]]:
    return [e for e in await audit(client, pid) if e["action"] == "decision"]


async def decisions_recorded(client: httpx.AsyncClient, pid: str) -> list[dict[str, Any]]:
    """The decisions' rows, once there is one: a decision's row is written beside the story, after its answer."""

    async def some() -> list[dict[str, Any]] | None:
        return await decisions(client, pid) or None

    return await eventually(some, "a decision's row in the trail")


async def assert_nothing_recorded(client: httpx.AsyncClient, gate: Gate) -> None:
    current = await view(client, gate.id)
    assert current["approvals"] == []
    assert current["gates"][0]["decisions"] == []
    assert current["gates"][0]["status"] == "open"
    assert await decisions(client, gate.id) == []


async def test_each_approver_gets_their_own_link(gate: Gate, stack: Stack) -> None:
    assert set(gate.links) == set(APPROVERS)
    assert gate.links[VP] != gate.links[LEGAL]
    for approver, link in gate.links.items():
        claims = stack.tokens.read(token_of(link), datetime.now(UTC))
        assert (claims.process_id, claims.gate, claims.round, claims.approver) == (gate.id, "go-no-go", 1, approver)


async def test_get_and_head_show_the_page_and_change_nothing(app_client: httpx.AsyncClient, gate: Gate) -> None:
    trail_before = await audit(app_client, gate.id)
    view_before = await view(app_client, gate.id)
    assert view_before["status"] == "waiting"
    assert view_before["gates"][0]["status"] == "open"

    shown = await page(app_client, gate, VP)
    head = await app_client.head(gate.path(VP))
    again = await page(app_client, gate, VP)

    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/html")
    assert await audit(app_client, gate.id) == trail_before
    view_after = await view(app_client, gate.id)
    assert view_after["gates"] == view_before["gates"]
    assert view_after["approvals"] == []
    assert again == shown

    text = text_of(shown)
    assert f"Asked of {VP} by {OWNER}" in text
    assert f"The launch of {gate.product} on" in text
    assert f"waiting on {VP}, {LEGAL}" in text
    form = the_form(shown)
    assert form["attrs"]["method"].lower() == "post"
    assert form["attrs"].get("action", "") in ("", gate.path(VP), gate.links[VP])
    fields = {(f["tag"], f["name"], f.get("type", ""), f.get("value", "")) for f in form["fields"]}
    assert {("input", "decision", "radio", v) for v in ("approve", "reject", "changes")} <= fields
    assert ("textarea", "comment", "", "") in fields
    hidden = [f for f in form["fields"] if f["name"] == "form_token"]
    assert len(hidden) == 1
    assert hidden[0]["type"] == "hidden"
    assert hidden[0]["value"]


async def test_approve_is_recorded_and_a_second_decision_is_409(app_client: httpx.AsyncClient, gate: Gate) -> None:
    form_token = form_token_of(await page(app_client, gate, VP))

    response = await app_client.post(
        gate.path(VP), data={"decision": "approve", "comment": "Ship it", "form_token": form_token}
    )

    assert response.status_code == 200, response.text
    text = text_of(response.text)
    assert f"Your approval is recorded; waiting on {LEGAL} (1 of 2 approvals received)." in text
    assert "Gate: waiting for decisions · policy all (2 approvals needed)" in text
    assert not forms_of(response.text)
    current = await view(app_client, gate.id)
    (approval,) = current["approvals"]
    assert {k: approval[k] for k in ("gate", "approver", "decision", "comment", "channel")} == {
        "gate": "go-no-go",
        "approver": VP,
        "decision": "approve",
        "comment": "Ship it",
        "channel": "link",
    }
    assert current["gates"][0]["status"] == "open"
    (event,) = await decisions_recorded(app_client, gate.id)
    assert (event["actor"], event["channel"], event["details"]["decision"]) == (VP, "link", "approve")
    assert event["details"]["comment"] == "Ship it"

    decided_at = datetime.fromisoformat(approval["at"]).strftime("%Y-%m-%d %H:%M")
    page_now = await page(app_client, gate, VP)
    assert not forms_of(page_now), "the page of an approver who decided has no form"
    assert f"{VP} decided on {decided_at} UTC: approved" in text_of(page_now)

    again = await app_client.post(
        gate.path(VP), data={"decision": "reject", "comment": "changed my mind", "form_token": form_token}
    )

    assert again.status_code == 409, again.text
    again_text = text_of(again.text)
    assert f"{VP} already decided 'approve' at {decided_at} UTC" in again_text
    assert f"{VP} decided on {decided_at} UTC: approved" in again_text
    assert len(await decisions(app_client, gate.id)) == 1
    assert [a["decision"] for a in (await view(app_client, gate.id))["approvals"]] == ["approve"]


async def emails_titled(client: httpx.AsyncClient, pid: str, subject: str) -> list[dict[str, Any]]:
    """The outbox's messages titled `subject`, once there are any: a decision's emails follow its answer."""

    async def found() -> list[dict[str, Any]]:
        outbox = (await client.get("/api/outbox", params={"process": pid})).json()
        return [e for e in outbox if e["subject"] == subject]

    return await eventually(found, f"an email titled {subject!r}")


async def test_owner_is_told_of_each_decision(app_client: httpx.AsyncClient, gate: Gate) -> None:
    response = await decide(app_client, gate, VP, "approve", "Ship it")
    assert response.status_code == 200, response.text

    (told,) = await emails_titled(app_client, gate.id, f"{VP} approved the launch of {gate.product}")
    assert told["channel"] == "email"
    assert told["to"] == [OWNER]
    assert "Ship it" in told["body"]
    assert "The gate is now waiting for decisions (1 of 2 approvals received)." in told["body"]


@pytest.mark.parametrize("form_token", ["", "not-a-form-token", "other-page"], ids=["missing", "garbage", "other-page"])
async def test_post_without_the_page_form_token_is_400(
    app_client: httpx.AsyncClient, gate: Gate, form_token: str
) -> None:
    if form_token == "other-page":
        form_token = form_token_of(await page(app_client, gate, LEGAL))
    data = {"decision": "approve", "comment": "", "form_token": form_token} if form_token else {"decision": "approve"}

    response = await app_client.post(gate.path(VP), data=data)

    assert response.status_code == 400, response.text
    assert "did not come from the approval page" in response.text
    await assert_nothing_recorded(app_client, gate)


async def test_post_of_an_unknown_decision_is_refused(app_client: httpx.AsyncClient, gate: Gate) -> None:
    response = await decide(app_client, gate, VP, "maybe")

    assert 400 <= response.status_code < 500, response.text
    assert response.status_code == 422
    assert "approve, reject, changes" in response.text
    await assert_nothing_recorded(app_client, gate)


def tampered(token: str) -> str:
    """`token` with two characters in its middle replaced."""
    middle = len(token) // 2
    chars = list(token)
    for i in (middle - 1, middle):
        chars[i] = "A" if chars[i] != "A" else "B"
    assert "".join(chars) != token
    return "".join(chars)


async def test_tampered_link_is_400(app_client: httpx.AsyncClient, gate: Gate) -> None:
    path = f"/approve/{tampered(token_of(gate.links[VP]))}"
    form_token = form_token_of(await page(app_client, gate, VP))

    shown = await app_client.get(path)
    posted = await app_client.post(path, data={"decision": "approve", "form_token": form_token})

    assert shown.status_code == 400
    assert "This link is not valid" in shown.text
    assert posted.status_code == 400
    await assert_nothing_recorded(app_client, gate)


async def test_expired_link_is_410(app_client: httpx.AsyncClient, stack: Stack, gate: Gate) -> None:
    claims = stack.tokens.read(token_of(gate.links[VP]), datetime.now(UTC))
    expired = claims.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(hours=1)})
    path = f"/approve/{stack.tokens.sign(expired)}"

    shown = await app_client.get(path)
    posted = await app_client.post(path, data={"decision": "approve", "form_token": stack.tokens.form_token(expired)})

    assert shown.status_code == 410
    assert "This link has expired" in shown.text
    assert posted.status_code == 410
    await assert_nothing_recorded(app_client, gate)


async def test_launch_completes_once_both_approve(app_client: httpx.AsyncClient, stack: Stack, gate: Gate) -> None:
    # Every item done: with items open a launch goes on chasing them after launch day (test_launch_open_items.py)
    for item in (await view(app_client, gate.id))["items"]:
        marked = await app_client.post(f"/api/processes/{gate.id}/items/{item['key']}/done")
        assert marked.status_code == 200, marked.text
    for approver in APPROVERS:
        response = await decide(app_client, gate, approver, "approve")
        assert response.status_code == 200, response.text
    assert "Your approval is recorded; the gate is now approved" in text_of(response.text)

    done = await wait_for_status(app_client, gate.id, "completed", stack)

    assert done["outcome"] == "launched"
    steps = {s["key"]: s["status"] for s in done["steps"]}
    assert (steps["kickoff"], steps["go-no-go"], steps["launch-day"]) == ("done", "done", "done")
    assert steps["checklist"] not in ("pending", "active"), "a completed launch has no step still under way"
    assert done["gates"][0]["status"] == "approved"
    assert sorted(a["approver"] for a in done["approvals"]) == sorted(APPROVERS)
    await wait_for_action(app_client, gate.id, "completed")


async def test_policy_any_closes_the_gate_on_one_approval(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    gate = await open_gate(app_client, today, policy="any")
    legal_form_token = stack.tokens.form_token(stack.tokens.read(token_of(gate.links[LEGAL]), datetime.now(UTC)))

    approved = await decide(app_client, gate, VP, "approve")

    assert approved.status_code == 200, approved.text
    assert "Your approval is recorded; the gate is now approved" in text_of(approved.text)
    assert (await view(app_client, gate.id))["gates"][0]["status"] == "approved"
    other = await page(app_client, gate, LEGAL)
    assert "This gate is approved and takes no more decisions." in text_of(other)
    assert forms_of(other) == []

    late = await app_client.post(
        gate.path(LEGAL), data={"decision": "reject", "comment": "too late", "form_token": legal_form_token}
    )

    assert late.status_code == 409, late.text
    assert [a["approver"] for a in (await view(app_client, gate.id))["approvals"]] == [VP]
    assert [e["actor"] for e in await decisions_recorded(app_client, gate.id)] == [VP]


async def test_rejection_ends_the_launch_and_carries_the_comment(app_client: httpx.AsyncClient, gate: Gate) -> None:
    comment = "Security review found an open critical finding"

    response = await decide(app_client, gate, VP, "reject", comment)

    assert response.status_code == 200, response.text
    assert "Your rejection is recorded; the gate is now rejected" in text_of(response.text)
    ended = await wait_for_status(app_client, gate.id, "rejected")
    assert ended["gates"][0]["status"] == "rejected"
    assert ended["outcome"] == f"{VP}: {comment}"
    (told,) = await emails_titled(app_client, gate.id, f"{VP} rejected the launch of {gate.product}")
    assert told["channel"] == "email"
    assert told["to"] == [OWNER]
    assert comment in told["body"]
