"""`signoff rerun` and `signoff skip`, run as a user runs them, against a real `signoff dev`: a launch whose
template holds a rejected go / no-go for its owner (``on_reject: owner``) is rejected through the approver's page,
then asked again from the command line; a skip of the gate and a blank reason are exit 2 with a sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from config.templates import PROCESSES
from tests.api.helpers import forms_of
from tests.integration.devstack import LINK, DevStack, eventually, launch_params
from tests.integration.test_cli import ok, refused, signoff


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled launch template acting at 00:00 UTC, its rejected gate held for the owner."""
    folder = tmp_path_factory.mktemp("templates")
    template = yaml.safe_load((PROCESSES / "launch.yaml").read_text())
    template["notify_hour_utc"] = 0
    template["gate"]["on_reject"] = "owner"
    (folder / "owner-launch.yaml").write_text(yaml.safe_dump(template))
    return folder


def audit(stack: DevStack, pid: str, action: str) -> list[dict[str, Any]]:
    return [e for e in stack.trail(pid) if e["action"] == action]


def reject_as_legal(stack: DevStack, pid: str) -> None:
    """Legal's decision, from the page behind their emailed link: no go."""
    asked = eventually(
        lambda: [e for e in stack.get("/api/outbox", params={"process": pid}) if e["to"] == ["legal@example.com"]
                 and e["channel"] == "email" and LINK.search(e["body"])],
        what="legal's approval request",
    )  # fmt: skip
    link = LINK.search(asked[0]["body"]).group(0)  # type: ignore[union-attr]
    with requests.Session() as browser:
        page = browser.get(link, timeout=30)
        fields = {f["name"]: f.get("value", "") for f in forms_of(page.text)[0]["fields"] if f["tag"] == "input"}
        decided = browser.post(
            link, data=fields | {"decision": "reject", "comment": "The name is taken."}, timeout=30,
            headers={"Sec-Fetch-Site": "same-origin"},
        )  # fmt: skip
    assert decided.status_code == 200, decided.text


def test_a_held_gate_is_asked_again_from_the_command_line(dev_stack: DevStack) -> None:
    params = launch_params("Cli Rerun", (datetime.now(UTC).date() + timedelta(days=2)).isoformat())
    params["template"] = "owner-launch"
    args = [f"--param={k}={v}" for k, v in params.items() if isinstance(v, str)]
    args += ["--param=approvers=vp@example.com", "--param=approvers=legal@example.com"]
    pid = ok(signoff(dev_stack, "start", "launch", *args)).split()[1]
    reject_as_legal(dev_stack, pid)
    eventually(lambda: dev_stack.get(f"/api/processes/{pid}").get("held"), what="the gate held for the owner")

    skipped = refused(signoff(dev_stack, "skip", pid, "go-no-go", "--reason=Ship it anyway."))
    blank = refused(signoff(dev_stack, "rerun", pid, "go-no-go", "--reason=  "))
    unheld = refused(signoff(dev_stack, "rerun", pid, "kickoff", "--reason=Again."))
    said = ok(signoff(dev_stack, "rerun", pid, "go-no-go", "--reason=Renamed the product."))

    assert "a refused approval is not skipped" in skipped
    assert "--reason: say why you run go-no-go" in blank
    assert "Kickoff is not held" in unheld
    assert said.strip() == f"Go / no-go of {pid} runs again; nothing done before it is repeated"
    eventually(lambda: audit(dev_stack, pid, "step_rerun"), what="the re-run in the trail")
    [rerun] = audit(dev_stack, pid, "step_rerun")
    assert rerun["channel"] == "cli" and rerun["details"]["reason"] == "Renamed the product."
    eventually(lambda: len(audit(dev_stack, pid, "gate_opened")) == 2, what="round 2 of the gate")
    assert len(audit(dev_stack, pid, "issue_created")) == 13, "the epic and the items' issues, once"
