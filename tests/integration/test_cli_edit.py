"""`signoff edit ID …`, run as a user runs it, against a real `signoff dev`: a launch moved, an item reassigned and
an approver replaced in one command, each change said; a refusal is exit 2 with the process's sentence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.integration.devstack import DevStack, eventually, launch_params
from tests.integration.test_cli import ok, refused, signoff


@pytest.fixture(scope="module")
def launch(dev_stack: DevStack) -> str:
    """A launch 40 days out, started from the CLI, once its kickoff is done."""
    params = launch_params("Cli Edit", (datetime.now(UTC).date() + timedelta(days=40)).isoformat())
    args = [f"--param={k}={v}" for k, v in params.items() if isinstance(v, str)]
    args += ["--param=approvers=vp@example.com", "--param=approvers=legal@example.com"]
    args += ["--param=owners.docs=docs@example.com"]
    process_id = ok(signoff(dev_stack, "start", "launch", *args)).split()[1]
    eventually(lambda: dev_stack.get(f"/api/processes/{process_id}")["steps"][0]["status"] == "done", what="kickoff")
    return process_id


def test_edit_moves_a_launch_reassigns_an_item_and_replaces_an_approver(dev_stack: DevStack, launch: str) -> None:
    before = dev_stack.get(f"/api/processes/{launch}")
    new = (date.fromisoformat(before["params"]["launch_date"]) + timedelta(days=7)).isoformat()

    said = ok(
        signoff(
            dev_stack, "edit", launch, f"--launch-date={new}", "--item-owner=documentation=writer@example.com",
            "--replace-approver=legal@example.com=counsel@example.com", "--reason=Legal needs a week.",
        )
    )  # fmt: skip

    lines = said.splitlines()
    assert lines[-1] == f"{launch} is changed; the people it affects are told"
    assert any(line.startswith(f"the launch moves from {before['params']['launch_date']} to {new}") for line in lines)
    assert "Go / no-go: legal@example.com is replaced by counsel@example.com" in said
    assert "moves from docs@example.com to writer@example.com" in said
    after = dev_stack.get(f"/api/processes/{launch}")
    assert after["id"] == launch and after["params"]["launch_date"] == new
    assert after["params"]["approvers"] == ["vp@example.com", "counsel@example.com"]
    assert next(i for i in after["items"] if i["key"] == "documentation")["owner"] == "writer@example.com"
    eventually(
        lambda: any(e["action"] == "edited" for e in dev_stack.get(f"/api/processes/{launch}/audit")),
        what="the edit in the trail",
    )


def test_edit_refuses_with_the_processs_sentence(dev_stack: DevStack, launch: str) -> None:
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()

    past = refused(signoff(dev_stack, "edit", launch, f"--launch-date={yesterday}"))
    nothing = refused(signoff(dev_stack, "edit", launch))
    malformed = refused(signoff(dev_stack, "edit", launch, "--item-owner=documentation"))

    assert "launch_date" in past and "is in the past" in past
    assert "nothing to change" in nothing
    assert "--item-owner takes KEY=VALUE" in malformed
