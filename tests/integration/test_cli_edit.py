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
        lambda: any(e["action"] == "edited" for e in dev_stack.trail(launch)),
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


def test_edit_refuses_a_date_past_the_horizon_naming_it(dev_stack: DevStack, launch: str) -> None:
    far = refused(signoff(dev_stack, "edit", launch, "--launch-date=9999-12-25"))

    assert "launch_date: 9999-12-25 is more than 10 years away; give a date no later than" in far
    assert dev_stack.get(f"/api/processes/{launch}")["params"]["launch_date"] != "9999-12-25"


def test_edit_reads_a_send_time_without_an_offset_in_the_processs_zone(dev_stack: DevStack) -> None:
    day = datetime.now(UTC).date() + timedelta(days=30)
    started = ok(
        signoff(
            dev_stack, "start", "comms", "--param=subject=Cli send time", "--param=body=Hello.",
            "--param=audience=ana@customer.example", "--param=reviewers=cs@example.com", "--param=owner=pm@example.com",
            f"--param=send_at={day}T10:00", "--param=time_zone=Europe/Berlin",
        )
    )  # fmt: skip
    process_id = started.split()[1]
    eventually(
        lambda: any(e["action"] == "review_requested" for e in dev_stack.trail(process_id)),
        what="the review asked",
    )

    said = ok(signoff(dev_stack, "edit", process_id, f"--send-at={day + timedelta(days=2)}T09:00"))

    assert said.splitlines()[-1] == f"{process_id} is changed; the people it affects are told"
    send_at = datetime.fromisoformat(dev_stack.get(f"/api/processes/{process_id}")["params"]["send_at"])
    assert send_at == datetime.combine(day + timedelta(days=2), datetime.min.time(), UTC).replace(hour=8)  # 09:00 CET
