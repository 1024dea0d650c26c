"""POST /hooks/slack: Approve / Reject clicked in Slack record the same decision as the email link.

The web service talks to a local server that answers like Slack's Web API
(users.info, and the ``response_url`` of a click); the clicks are signed the
way Slack signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from integrations.slack import SlackChat
from tests.adapters.fake_chat import FakeSlack, running
from tests.api.conftest import client_of
from tests.api.helpers import (
    APPROVERS,
    approval_links,
    audit,
    eventually,
    launch_params,
    start,
    token_of,
    view,
    wait_for_action,
)
from tests.conftest import Stack

VP, LEGAL = APPROVERS
SIGNING_SECRET = "slack-signing-secret"
TOKEN = "xoxb-test-token"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with running(FakeSlack(TOKEN)) as server:
        server.users |= {LEGAL: "U0LEGAL", "intern@example.com": "U0INTERN"}
        yield server


@pytest.fixture
async def client(stack: Stack, today: date, slack: FakeSlack) -> AsyncIterator[httpx.AsyncClient]:
    chat = SlackChat(stack.store, TOKEN, api_url=slack.api_url, timeout=2)
    async with client_of(stack, today, slack=chat, slack_signing_secret=SIGNING_SECRET) as client:
        yield client


def click_body(
    token: str, decision: str = "approve", user: str = "U0VP", response_url: str = "https://hooks.slack.com/actions/1"
) -> bytes:
    """The form Slack posts when a decision button is clicked (a ``block_actions`` payload)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0ACME"},
        "team": {"id": "T0ACME"},
        "container": {"type": "message", "message_ts": "1700000001.000100", "channel_id": "D0VP"},
        "channel": {"id": "D0VP", "name": "directmessage"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "block_id": "signoff_decision",
                "action_id": f"signoff_decision:{decision}",
                "value": token,
                "action_ts": "1700000002.000200",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_headers(body: bytes, secret: str = SIGNING_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": f"v0={digest}",
    }


async def press(
    client: httpx.AsyncClient, slack: FakeSlack, token: str, decision: str = "approve", user: str = "U0VP"
) -> httpx.Response:
    """Click a decision button in Slack; its response_url points at the fake."""
    body = click_body(token, decision, user, slack.response_url(str(len(slack.received))))
    return await client.post("/hooks/slack", content=body, headers=signed_headers(body))


async def open_gate(client: httpx.AsyncClient, today: date) -> tuple[str, dict[str, str]]:
    """A launch on `today` (its gate opens at once) and each approver's token."""
    pid = (await start(client, launch_params(today)))["id"]
    links = await approval_links(client, pid)
    return pid, {approver: token_of(link) for approver, link in links.items()}


def replies(slack: FakeSlack) -> list[str]:
    return [r.body["text"] for r in slack.replies]


async def chat_request(client: httpx.AsyncClient, pid: str, approver: str) -> dict[str, Any]:
    response = await client.get("/api/outbox", params={"process": pid})
    [entry] = [e for e in response.json() if e["channel"] == "chat" and e["to"] == [approver]]
    result: dict[str, Any] = entry
    return result


async def test_approve_in_slack_records_the_decision_and_edits_the_request(
    client: httpx.AsyncClient, slack: FakeSlack, today: date
) -> None:
    pid, tokens = await open_gate(client, today)

    response = await press(client, slack, tokens[VP], "approve")

    assert response.status_code == 200 and response.content == b""
    process = await view(client, pid)
    [decision] = process["approvals"]
    assert (decision["approver"], decision["decision"], decision["channel"]) == (VP, "approve", "slack")
    assert [c.body for c in slack.calls("users.info")] == [{"user": "U0VP"}], "who clicked is checked with Slack"
    trail = await wait_for_action(client, pid, "message_updated")
    [event] = [e for e in trail if e["action"] == "decision"]
    assert (event["actor"], event["channel"]) == (VP, "slack")
    request = await chat_request(client, pid, VP)
    assert request["body"].startswith(":white_check_mark: You approved the launch of")
    assert ", in Slack, at " in request["body"] and "[Approve]" not in request["body"]
    assert replies(slack) == []


async def test_reject_in_slack_ends_the_launch_like_a_rejection_by_link(
    client: httpx.AsyncClient, slack: FakeSlack, today: date
) -> None:
    pid, tokens = await open_gate(client, today)

    assert (await press(client, slack, tokens[LEGAL], "reject", user="U0LEGAL")).status_code == 200

    trail = await wait_for_action(client, pid, "rejected")
    assert [(e["actor"], e["details"]["decision"]) for e in trail if e["action"] == "decision"] == [(LEGAL, "reject")]
    # the other approver's request no longer offers buttons: the gate is closed
    vp_request = await eventually_rewritten(client, pid, VP)
    assert vp_request.startswith(":hourglass: The Go / no-go of ") and "is rejected" in vp_request


async def eventually_rewritten(client: httpx.AsyncClient, pid: str, approver: str) -> str:
    async def rewritten() -> str | None:
        body = str((await chat_request(client, pid, approver))["body"])
        return None if "[Approve]" in body else body

    return await eventually(rewritten, f"the chat request to {approver} to lose its buttons")


async def test_someone_elses_buttons_record_nothing_and_say_why(
    client: httpx.AsyncClient, slack: FakeSlack, today: date
) -> None:
    pid, tokens = await open_gate(client, today)

    response = await press(client, slack, tokens[VP], "approve", user="U0INTERN")

    assert response.status_code == 200
    assert replies(slack) == [
        f"Not recorded: These buttons are for {VP}; your Slack account's email is intern@example.com, "
        "so nothing was recorded."
    ]
    assert slack.replies[0].body["response_type"] == "ephemeral"
    assert (await view(client, pid))["approvals"] == []
    assert not [e for e in await audit(client, pid) if e["action"] == "decision"]


async def test_a_second_click_is_refused_with_who_decided_when(
    client: httpx.AsyncClient, slack: FakeSlack, today: date
) -> None:
    pid, tokens = await open_gate(client, today)
    await press(client, slack, tokens[VP], "approve")

    await press(client, slack, tokens[VP], "reject")

    [reply] = replies(slack)
    assert reply.startswith(f"Not recorded: {VP} already decided 'approve' at ")
    assert [a["decision"] for a in (await view(client, pid))["approvals"]] == ["approve"]


async def test_a_forged_token_is_refused_in_a_reply(client: httpx.AsyncClient, slack: FakeSlack, today: date) -> None:
    _, tokens = await open_gate(client, today)

    await press(client, slack, tokens[VP][:-3] + "xyz", "approve")

    assert replies(slack) == ["Not recorded: this approval link is not valid: it may have been altered or cut short"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: h | {"x-slack-signature": "v0=" + "0" * 64}, "wrong signature"),
        (lambda h, b: signed_headers(b, at=time.time() - 6 * 60), "stale timestamp"),
        (lambda h, b: {"content-type": h["content-type"]}, "missing X-Slack-Request-Timestamp"),
        (lambda h, b: signed_headers(b, secret="another-apps-secret"), "wrong signature"),
    ],
    ids=["tampered", "stale", "unsigned", "other-app"],
)
async def test_a_request_without_slacks_signature_is_refused(
    client: httpx.AsyncClient, slack: FakeSlack, change: Any, reason: str
) -> None:
    body = click_body("token")
    response = await client.post("/hooks/slack", content=body, headers=change(signed_headers(body), body))

    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert slack.received == [], "nothing was asked of Slack for an unsigned request"


async def test_a_changed_body_no_longer_matches_its_signature(client: httpx.AsyncClient) -> None:
    body = click_body("token", "approve")
    headers = signed_headers(body)

    response = await client.post("/hooks/slack", content=body.replace(b"approve", b"reject"), headers=headers)

    assert response.status_code == 401


async def test_other_interactions_are_acknowledged_and_ignored(client: httpx.AsyncClient, slack: FakeSlack) -> None:
    body = urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U0VP"}})}).encode()

    response = await client.post("/hooks/slack", content=body, headers=signed_headers(body))

    assert response.status_code == 200
    assert slack.received == []


async def test_a_signed_body_that_is_not_an_interaction_is_a_400(client: httpx.AsyncClient) -> None:
    body = b"hello=world"
    response = await client.post("/hooks/slack", content=body, headers=signed_headers(body))

    assert response.status_code == 400
    assert "payload" in response.json()["detail"]


async def test_the_endpoint_is_off_without_a_signing_secret(app_client: httpx.AsyncClient) -> None:
    body = click_body("token")
    response = await app_client.post("/hooks/slack", content=body, headers=signed_headers(body))

    assert response.status_code == 404
    assert "SIGNOFF_SLACK_SIGNING_SECRET" in response.json()["detail"]
