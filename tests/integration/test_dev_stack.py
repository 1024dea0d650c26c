"""The real stack: `signoff dev` (Temporal dev server, worker, web) on free ports.

Walks a launch through HTTP the way a user would: start it, read the outbox,
open an approval link (which decides nothing), decide by POSTing the page's
form, and watch it complete; then stop the stack with Ctrl-C and start it
again on the same data dir to find every process where it was.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.integration.devstack import LINK, DevStack, eventually, launch_params
from workers.devserver import port_in_use


def start_today(dev_stack: DevStack, product: str) -> tuple[str, requests.Response]:
    """Start a launch dated today, on the real clock the dev stack runs on.

    A start in the last instant of a day can reach the service after midnight, when its date is past
    (a 422): then it is started again, dated the new today, as a person would.
    """
    while True:
        today = datetime.now(UTC).date().isoformat()
        started = requests.post(
            f"{dev_stack.base}/api/processes",
            json={"kind": "launch", "params": launch_params(product, today)},
            timeout=30,
        )
        if started.status_code != 422 or datetime.now(UTC).date().isoformat() == today:
            return today, started


def without_clock_events(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trail less what the clock alone brings (reminders and escalations, at 00:00 with this template)."""
    return [e for e in trail if e["action"] not in ("reminder", "escalation")]


def test_a_launch_walks_from_start_to_completion(dev_stack: DevStack) -> None:
    today, started = start_today(dev_stack, "Acme Analytics 2.0")
    assert started.status_code == 201, started.text
    process_id = started.json()["id"]
    assert process_id == f"launch-acme-analytics-2-0-{today}"

    again = requests.post(
        f"{dev_stack.base}/api/processes",
        json={"kind": "launch", "params": launch_params("Acme Analytics 2.0", today)},
        timeout=30,
    )
    assert again.status_code == 409

    # The kickoff and the gate (open at once: the launch is today) fill the outbox.
    def approval_links() -> dict[str, str]:
        entries = dev_stack.get("/api/outbox", params={"process": process_id})
        return {e["to"][0]: LINK.search(e["body"]).group(0) for e in entries if LINK.search(e["body"])}

    links = eventually(lambda: len(approval_links()) == 2 and approval_links(), what="two approval emails")
    outbox = dev_stack.get("/api/outbox", params={"process": process_id})
    tracker = [e for e in outbox if e["channel"] == "tracker"]
    assert len(tracker) == 13  # the epic and one issue per checklist item
    assert any(e["channel"] == "chat" and "#launches" in e["to"] for e in outbox)
    kickoff_mail = {e["to"][0] for e in outbox if e["channel"] == "email" and "checklist items" in e["subject"]}
    assert kickoff_mail == {"pm@example.com", "docs@example.com", "support@example.com"}

    # Opening a link (as a mail scanner would) decides nothing. Wait until the
    # gate's requests are fully recorded, so the trail is still while we look.
    def requested() -> list[Any]:
        trail = without_clock_events(dev_stack.get(f"/api/processes/{process_id}/audit"))
        return trail if trail[-1]["action"] == "approval_requested" else []

    trail_before = eventually(requested, what="the approval requests to be recorded")
    page = requests.get(links["vp@example.com"], timeout=30)
    assert page.status_code == 200
    assert requests.head(links["vp@example.com"], timeout=30).status_code == 200
    assert without_clock_events(dev_stack.get(f"/api/processes/{process_id}/audit")) == without_clock_events(
        trail_before
    )
    assert dev_stack.get(f"/api/processes/{process_id}")["approvals"] == []

    # Every item done, so the launch ends on launch day (with items open it goes on chasing them after it).
    for item in dev_stack.get(f"/api/processes/{process_id}")["items"]:
        marked = requests.post(f"{dev_stack.base}/api/processes/{process_id}/items/{item['key']}/done", timeout=30)
        assert marked.status_code == 200, marked.text

    # Deciding is the POST of the page's form.
    for approver, link in links.items():
        form = requests.get(link, timeout=30).text
        token = re.search(r'name="form_token" value="([^"]+)"', form)
        assert token, "the confirmation page carries its form token"
        decided = requests.post(
            link,
            data={"decision": "approve", "comment": f"go from {approver}", "form_token": token.group(1)},
            timeout=30,
        )
        assert decided.status_code == 200
        assert "Your approval is recorded" in decided.text

    view = eventually(
        lambda: (v := dev_stack.get(f"/api/processes/{process_id}"))["status"] == "completed" and v,
        what="the launch to complete",
    )
    assert {(a["approver"], a["decision"]) for a in view["approvals"]} == {
        ("vp@example.com", "approve"),
        ("legal@example.com", "approve"),
    }
    outbox = dev_stack.get("/api/outbox", params={"process": process_id})
    announcement = [e for e in outbox if "is launched" in e["subject"]]
    assert announcement and "everyone@example.com" in announcement[0]["to"]

    page = requests.get(f"{dev_stack.base}/processes/{process_id}", timeout=30).text
    ui = f"http://127.0.0.1:{dev_stack.temporal_port + 1000}/namespaces/default/workflows/{process_id}"
    assert f'<a href="{ui}">Temporal UI</a>' in page

    trail = eventually(  # (the status shows before its row is written)
        lambda: (t := dev_stack.trail(process_id)) and t[-1]["action"] == "completed" and t,
        what="the trail's last row",
    )
    assert [e["seq"] for e in trail] == list(range(1, len(trail) + 1))
    decisions = [e for e in trail if e["action"] == "decision"]
    assert {(e["actor"], e["channel"]) for e in decisions} == {
        ("vp@example.com", "link"),
        ("legal@example.com", "link"),
    }
    csv = requests.get(f"{dev_stack.base}/api/processes/{process_id}/audit", params={"format": "csv"}, timeout=30)
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == len(trail) + 1


def test_ctrl_c_stops_everything_and_a_restart_finds_every_process(dev_stack: DevStack) -> None:
    later = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()
    started = requests.post(
        f"{dev_stack.base}/api/processes", json={"kind": "launch", "params": launch_params("Beta", later)}, timeout=30
    )
    assert started.status_code == 201, started.text
    process_id = started.json()["id"]
    eventually(lambda: dev_stack.get(f"/api/processes/{process_id}")["steps"][0]["status"] == "done", what="kickoff")

    output = dev_stack.stop()
    assert dev_stack.process is not None and dev_stack.process.returncode == 0
    assert "signoff stopped" in output
    assert not port_in_use(dev_stack.temporal_port), "the Temporal dev server stopped with the stack"
    assert not port_in_use(dev_stack.port)

    dev_stack.start()
    view = dev_stack.get(f"/api/processes/{process_id}")
    assert view["status"] == "running"
    assert view["steps"][0]["status"] == "done"
    listed = {row["id"]: row["status"] for row in dev_stack.get("/api/processes")}
    assert listed[process_id] == "running"

    cancelled = requests.post(
        f"{dev_stack.base}/api/processes/{process_id}/cancel", json={"reason": "moved to next quarter"}, timeout=60
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    ended = [e for e in dev_stack.get("/api/outbox", params={"process": process_id}) if "cancelled" in e["subject"]]
    assert ended and "moved to next quarter" in ended[0]["body"]
