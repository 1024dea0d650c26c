"""The real stack: `signoff dev` (Temporal dev server, worker, web) on free ports.

Walks a launch through HTTP the way a user would: start it, read the outbox,
open an approval link (which decides nothing), decide by POSTing the page's
form, and watch it complete; then stop the stack with Ctrl-C and start it
again on the same data dir to find every process where it was.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from config.templates import PROCESSES
from workers.devserver import port_in_use
from workers.temporal import find_binary

LINK = re.compile(r"http://127\.0\.0\.1:\d+/approve/\S+")


def free_port(also_free: int = 0) -> int:
    """A free port whose neighbour `+also_free` is free too (the Temporal UI)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port + also_free < 65536 and not port_in_use(port + also_free):
            return port


def eventually(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class DevStack:
    """`signoff dev` as a child process."""

    def __init__(self, data_dir: Path, templates: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.temporal_port = free_port(also_free=1000)
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
        self.env["SIGNOFF_TEMPLATES_DIR"] = str(templates)
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                find_binary("signoff"),
                "dev",
                "--port",
                str(self.port),
                "--temporal-port",
                str(self.temporal_port),
                "--data-dir",
                str(self.data_dir),
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        eventually(self._healthy, timeout=60, what="signoff dev to answer /healthz")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"signoff dev exited: {self.process.stdout.read() if self.process.stdout else ''}")
        try:
            return requests.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> str:
        """Ctrl-C, as a person would; returns what the stack printed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return output

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def get(self, path: str, **kwargs: Any) -> Any:
        response = requests.get(f"{self.base}{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled launch template, acting at 00:00 UTC so launch day is never hours away."""
    folder = tmp_path_factory.mktemp("templates")
    template = yaml.safe_load((PROCESSES / "launch.yaml").read_text())
    template["notify_hour_utc"] = 0
    (folder / "midnight-launch.yaml").write_text(yaml.safe_dump(template))
    return folder


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, templates: Path) -> Iterator[DevStack]:
    running = DevStack(tmp_path_factory.mktemp("data"), templates)
    running.start()
    try:
        yield running
    finally:
        running.kill()


def launch_params(product: str, launch_date: str) -> dict[str, Any]:
    return {
        "product": product,
        "launch_date": launch_date,
        "owner": "pm@example.com",
        "approvers": ["vp@example.com", "legal@example.com"],
        "owners": {"docs": "docs@example.com", "support": "support@example.com"},
        "stakeholders": ["everyone@example.com"],
        "template": "midnight-launch",
    }


def test_a_launch_walks_from_start_to_completion(stack: DevStack) -> None:
    today = datetime.now(UTC).date().isoformat()
    started = requests.post(
        f"{stack.base}/api/processes",
        json={"kind": "launch", "params": launch_params("Acme Analytics 2.0", today)},
        timeout=30,
    )
    assert started.status_code == 201, started.text
    process_id = started.json()["id"]
    assert process_id == f"launch-acme-analytics-2-0-{today}"

    again = requests.post(
        f"{stack.base}/api/processes",
        json={"kind": "launch", "params": launch_params("Acme Analytics 2.0", today)},
        timeout=30,
    )
    assert again.status_code == 409

    # The kickoff and the gate (open at once: the launch is today) fill the outbox.
    def approval_links() -> dict[str, str]:
        entries = stack.get("/api/outbox", params={"process": process_id})
        return {e["to"][0]: LINK.search(e["body"]).group(0) for e in entries if LINK.search(e["body"])}

    links = eventually(lambda: len(approval_links()) == 2 and approval_links(), what="two approval emails")
    outbox = stack.get("/api/outbox", params={"process": process_id})
    tracker = [e for e in outbox if e["channel"] == "tracker"]
    assert len(tracker) == 13  # the epic and one issue per checklist item
    assert any(e["channel"] == "chat" and "#launches" in e["to"] for e in outbox)
    kickoff_mail = {e["to"][0] for e in outbox if e["channel"] == "email" and "checklist items" in e["subject"]}
    assert kickoff_mail == {"pm@example.com", "docs@example.com", "support@example.com"}

    # Opening a link (as a mail scanner would) decides nothing. Wait until the
    # gate's requests are fully recorded, so the trail is still while we look.
    def requested() -> list[Any]:
        trail = stack.get(f"/api/processes/{process_id}/audit")
        return trail if trail[-1]["action"] == "approval_requested" else []

    trail_before = eventually(requested, what="the approval requests to be recorded")
    page = requests.get(links["vp@example.com"], timeout=30)
    assert page.status_code == 200
    assert requests.head(links["vp@example.com"], timeout=30).status_code == 200
    assert stack.get(f"/api/processes/{process_id}/audit") == trail_before
    assert stack.get(f"/api/processes/{process_id}")["approvals"] == []

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
        assert "Your decision is recorded" in decided.text

    view = eventually(
        lambda: (v := stack.get(f"/api/processes/{process_id}"))["status"] == "completed" and v,
        what="the launch to complete",
    )
    assert {(a["approver"], a["decision"]) for a in view["approvals"]} == {
        ("vp@example.com", "approve"),
        ("legal@example.com", "approve"),
    }
    outbox = stack.get("/api/outbox", params={"process": process_id})
    announcement = [e for e in outbox if "is launched" in e["subject"]]
    assert announcement and "everyone@example.com" in announcement[0]["to"]

    trail = stack.get(f"/api/processes/{process_id}/audit")
    assert [e["seq"] for e in trail] == list(range(1, len(trail) + 1))
    decisions = [e for e in trail if e["action"] == "decision"]
    assert {(e["actor"], e["channel"]) for e in decisions} == {
        ("vp@example.com", "link"),
        ("legal@example.com", "link"),
    }
    assert trail[-1]["action"] == "completed"
    csv = requests.get(f"{stack.base}/api/processes/{process_id}/audit", params={"format": "csv"}, timeout=30)
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == len(trail) + 1


def test_ctrl_c_stops_everything_and_a_restart_finds_every_process(stack: DevStack) -> None:
    later = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()
    started = requests.post(
        f"{stack.base}/api/processes", json={"kind": "launch", "params": launch_params("Beta", later)}, timeout=30
    )
    assert started.status_code == 201, started.text
    process_id = started.json()["id"]
    eventually(lambda: stack.get(f"/api/processes/{process_id}")["steps"][0]["status"] == "done", what="kickoff")

    output = stack.stop()
    assert stack.process is not None and stack.process.returncode == 0
    assert "signoff stopped" in output
    assert not port_in_use(stack.temporal_port), "the Temporal dev server stopped with the stack"
    assert not port_in_use(stack.port)

    stack.start()
    view = stack.get(f"/api/processes/{process_id}")
    assert view["status"] == "running"
    assert view["steps"][0]["status"] == "done"
    listed = {row["id"]: row["status"] for row in stack.get("/api/processes")}
    assert listed[process_id] == "running"

    cancelled = requests.post(
        f"{stack.base}/api/processes/{process_id}/cancel", json={"reason": "moved to next quarter"}, timeout=60
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    ended = [e for e in stack.get("/api/outbox", params={"process": process_id}) if "cancelled" in e["subject"]]
    assert ended and "moved to next quarter" in ended[0]["body"]
