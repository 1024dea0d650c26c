"""A whole launch with every integration switched on: Jira, SMTP and Slack, each a real protocol peer on loopback.

Settings name the local servers exactly as they would name Jira Cloud, a mail
relay and a Slack app, so the worker's and web service's adapters come from
the real composition root (`workers.wiring`). Time runs on the time-skipping
test server; what each integration received is read back from the server
itself: issues and transitions from the fake Jira, messages from aiosmtpd,
posts and edits from the fake Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config.settings import Settings
from domain.access import Role
from domain.ids import process_id
from integrations.people import People
from integrations.store import Store
from tests.adapters.fake_chat import FakeSlack, running
from tests.adapters.fake_jira import FakeJira
from tests.adapters.smtp_server import Server, smtp_server
from tests.api.helpers import eventually, forms_of
from tests.clock import skip_to, start_test
from tests.workflows.helpers import gate_opens, nine_utc
from workers.temporal import build_worker
from workers.wiring import build_activities, build_services

PUBLIC_URL = "https://signoff.acme.test"
OWNER, VP, LEGAL = "pm@example.com", "vp@example.com", "legal@example.com"
DOCS, SUPPORT, ALL = "docs@example.com", "support@example.com", "all@example.com"
JIRA_SECRET, SLACK_SIGNING_SECRET, SLACK_TOKEN = "jira-hook-secret", "slack-signing-secret", "xoxb-e2e"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/approve/([A-Za-z0-9_.\-]+)")


@dataclass
class World:
    """Everything signoff talks to, and an HTTP client for its web service."""

    env: WorkflowEnvironment
    jira: FakeJira
    smtp: Server
    slack: FakeSlack
    store: Store
    web: httpx.AsyncClient
    """An admin's client (a token of theirs)."""
    browser: httpx.AsyncClient
    """A client with no credential: an approver's browser, whose link is all it has."""

    def mail(self, to: str, subject: str) -> list[EmailMessage]:
        """Messages aiosmtpd took for `to` whose subject contains `subject`."""
        return [r.message for r in self.smtp.received if to in r.rcpt_tos and subject in str(r.message["Subject"])]

    def issues(self) -> dict[str, dict[str, Any]]:
        return self.jira.issues


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud") as server:
        for email in (OWNER, VP, LEGAL, DOCS, SUPPORT):
            server.add_person(email, email.split("@")[0].title())
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with running(FakeSlack(SLACK_TOKEN)) as server:
        server.users = {VP: "U0VP", LEGAL: "U0LEGAL", OWNER: "U0PM"}
        yield server


@pytest.fixture
async def world(
    env: WorkflowEnvironment, jira: FakeJira, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    with smtp_server() as smtp:
        environment = {
            "DATA_DIR": str(tmp_path),
            "PUBLIC_URL": PUBLIC_URL,
            "TEMPORAL_TASK_QUEUE": f"e2e-{uuid.uuid4()}",
            "JIRA_URL": jira.url,
            "JIRA_USER": jira.user,
            "JIRA_TOKEN": jira.token,
            "JIRA_WEBHOOK_SECRET": JIRA_SECRET,
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_FROM": "signoff@example.com",
            "SLACK_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
        }
        for name, value in environment.items():
            monkeypatch.setenv(f"SIGNOFF_{name}", value)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        store = Store.connect(settings.database())
        services = build_services(settings, env.client, store)
        people = People(store.engine)  # the production rules: the test's client is an admin, by token
        people.add("admin@example.com", Role.ADMIN, by="tests")
        _, token = people.create_token("admin@example.com", Role.ADMIN, "tests", by="tests")
        app = httpx.ASGITransport(app=create_app(services))
        async with (
            build_worker(env.client, settings.temporal.task_queue, build_activities(settings, store)),
            httpx.AsyncClient(transport=app, base_url=PUBLIC_URL, headers={"Authorization": f"Bearer {token}"}) as web,
            httpx.AsyncClient(transport=app, base_url=PUBLIC_URL) as browser,
        ):
            await start_test(env)
            yield World(env, jira, smtp, slack, store, web, browser)


def jira_webhook(issue: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """Jira's delivery of an issue update: the body, with its time, signed (Jira signs the body alone)."""
    event = {"timestamp": int(time.time() * 1000), "webhookEvent": "jira:issue_updated", "issue": issue}
    body = json.dumps(event).encode()
    signature = "sha256=" + hmac.new(JIRA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "content-type": "application/json",
        "x-hub-signature": signature,
        "x-atlassian-webhook-identifier": "1",
    }


def slack_click(world: World, token: str, user: str) -> tuple[bytes, dict[str, str]]:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "container": {"type": "message", "message_ts": "1", "channel_id": "D" + user.removeprefix("U")},
        "response_url": world.slack.response_url("1"),
        "actions": [{"action_id": "signoff_decision:approve", "value": token, "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(SLACK_SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return body, {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": f"v0={digest}",
    }


async def audited(world: World, pid: str, action: str, count: int = 1) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        response = await world.web.get(f"/api/processes/{pid}/audit")
        events = response.json() if response.status_code == 200 else []
        return events if sum(e["action"] == action for e in events) >= count else None

    return await eventually(probe, f"{count} audit event(s) {action!r}", timeout=30)


async def test_a_launch_through_jira_smtp_and_slack(world: World) -> None:
    today = (await world.env.get_current_time()).date()
    params = {
        "product": f"Acme {uuid.uuid4().hex[:6]}",
        "launch_date": (today + timedelta(days=10)).isoformat(),
        "owner": OWNER,
        "approvers": [VP, LEGAL],
        "owners": {"docs": DOCS, "support": SUPPORT},
        "stakeholders": [ALL],
        "channel": "#launches",
        "jira_project": "LAUNCH",
    }
    pid = process_id("launch", params["product"], params["launch_date"])
    response = await world.web.post("/api/processes", json={"kind": "launch", "params": params})
    assert response.status_code == 201, response.text

    # 1. Kickoff: an epic and 12 item issues in Jira, a post in #launches, one email per owner.
    await audited(world, pid, "issue_created", 13)
    label = f"signoff-process-{pid}"
    issues = [i for i in world.issues().values() if label in i["fields"]["labels"]]
    assert len(issues) == 13
    [epic] = [i for i in issues if i["fields"]["issuetype"]["name"] == "Epic"]
    docs_issue = next(i for i in issues if i["fields"]["summary"].startswith("Product documentation"))
    assert docs_issue["fields"]["assignee"]["emailAddress"] == DOCS
    assert docs_issue["fields"]["parent"]["key"] == epic["key"]
    await audited(world, pid, "message_sent", 1 + 3)  # the channel post, and an email to each owner (pm, docs, support)
    [kickoff] = world.slack.messages_in("C0LAUNCHES")
    assert params["product"] in kickoff["text"] and kickoff["text"].startswith(":rocket:")
    [owner_mail] = world.mail(DOCS, params["product"])
    assert "Product documentation" in owner_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # 2. The docs issue is done in Jira; its webhook ticks the item (and Jira is not written back to).
    docs_issue["fields"]["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
    body, headers = jira_webhook(docs_issue)
    answer = await world.web.post("/hooks/jira", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["actions"][0]["item_done"] == "documentation"

    # 3. Three days before launch the gate opens: a link by email and buttons in Slack for each approver.
    # Skip to an hour after it opens (the process's own schedule), before its first daily reminder.
    launch_day = date.fromisoformat(params["launch_date"])
    await skip_to(world.env, gate_opens(launch_day) + timedelta(hours=1))
    await audited(world, pid, "approval_requested")
    tokens = {}
    for approver in (VP, LEGAL):
        [request] = world.mail(approver, "your decision")
        text = request.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        tokens[approver] = LINK.search(text).group(1)  # type: ignore[union-attr]
    [vp_request], [legal_request] = world.slack.messages_in("D0VP"), world.slack.messages_in("D0LEGAL")
    assert "go / no-go decision" in vp_request["text"] and "go / no-go decision" in legal_request["text"]
    vp_buttons = vp_request["blocks"][-1]["elements"]
    assert [b.get("style") for b in vp_buttons] == ["primary", "danger", None]
    assert vp_buttons[0]["value"] == tokens[VP], "the Slack button carries the same token as the email link"

    # 4. The VP decides on the page behind the email link; legal presses Approve in Slack.
    page = await world.browser.get(f"/approve/{tokens[VP]}")
    form = forms_of(page.text)[0]  # the decision (the second hands it on)
    fields = {f["name"]: f.get("value", "") for f in form["fields"] if f["tag"] == "input"}
    decided = await world.browser.post(f"/approve/{tokens[VP]}", data=fields | {"decision": "approve", "comment": "Go"})
    assert decided.status_code == 200, decided.text
    body, headers = slack_click(world, tokens[LEGAL], "U0LEGAL")
    assert (await world.web.post("/hooks/slack", content=body, headers=headers)).status_code == 200

    # 5. Both Slack requests now say who decided and how; the owner got an email per decision.
    await audited(world, pid, "message_updated", 2)
    [vp_request], [legal_request] = world.slack.messages_in("D0VP"), world.slack.messages_in("D0LEGAL")
    assert "You approved" in vp_request["text"] and "through your email link" in vp_request["text"]
    assert "You approved" in legal_request["text"] and "in Slack" in legal_request["text"]
    assert [b["type"] for b in vp_request["blocks"] + legal_request["blocks"]] == ["section"] * 2, "buttons gone"
    assert world.mail(OWNER, f"{VP} approved") and world.mail(OWNER, f"{LEGAL} approved")

    # The other items are marked done through the API (their issues closed in Jira), so the launch ends on launch
    # day: with items open it would go on chasing them after it (tests/workflows/test_launch_open_items.py).
    view = (await world.web.get(f"/api/processes/{pid}")).json()
    for item in [i for i in view["items"] if i["status"] == "open"]:
        marked = await world.web.post(f"/api/processes/{pid}/items/{item['key']}/done")
        assert marked.status_code == 200, marked.text
    await audited(world, pid, "issue_transitioned", 11)

    # 6. Launch day: announcement by email and in Slack, the epic moved to Done in Jira.
    await skip_to(world.env, nine_utc(launch_day) + timedelta(hours=1))
    await audited(world, pid, "completed")
    [announcement] = world.mail(ALL, "is launched")
    assert OWNER in announcement["To"] and announcement.get_body(("html",)) is not None
    assert "launched" in world.slack.messages_in("C0LAUNCHES")[-1]["text"].lower()
    assert world.jira.issues[epic["key"]]["fields"]["status"]["name"] == "Done"
    assert world.jira.issues[docs_issue["key"]]["fields"]["status"]["name"] == "Done"
    view = (await world.web.get(f"/api/processes/{pid}")).json()
    assert view["status"] == "completed"
    assert [(a["approver"], a["channel"]) for a in view["approvals"]] == [(VP, "link"), (LEGAL, "slack")]
    verify = world.store.verify()
    assert verify == [], verify
