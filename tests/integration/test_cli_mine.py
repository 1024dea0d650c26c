"""`signoff mine` and `signoff list --overdue`, run as a user runs them, against a real `signoff dev`.

A post-mortem whose incident was resolved a month ago has its draft overdue
from the start; a launch two months out has nothing overdue.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.devstack import DevStack, eventually, launch_params
from tests.integration.test_cli import ok, refused, signoff
from tests.integration.test_cli_access import token_of

COMMANDER = "commander@example.com"


@pytest.fixture(scope="module")
def late(dev_stack: DevStack) -> str:
    """A post-mortem started from the CLI, its draft (the commander's) overdue, once the list shows it so."""
    resolved = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds")
    started = ok(
        signoff(
            dev_stack, "start", "postmortem", "--param=incident=INC-LATE-1", "--param=title=Checkout errors",
            "--param=severity=SEV2", f"--param=commander={COMMANDER}", "--param=reviewers=vp@example.com",
            f"--param=resolved_at={resolved}",
        )
    )  # fmt: skip
    process_id = started.split()[1]
    on_time = launch_params("Mine Launch", (datetime.now(UTC).date() + timedelta(days=60)).isoformat())
    args = [f"--param={k}={v}" for k, v in on_time.items() if isinstance(v, str)]
    args += ["--param=approvers=vp@example.com", "--param=approvers=legal@example.com"]
    ok(signoff(dev_stack, "start", "launch", *args))
    eventually(
        lambda: [row["id"] for row in dev_stack.get("/api/processes", params={"overdue": "true"})] == [process_id],
        what="the post-mortem listed as overdue",
    )
    return process_id


def test_list_overdue_lists_only_the_processes_with_overdue_items(dev_stack: DevStack, late: str) -> None:
    everything = ok(signoff(dev_stack, "list")).splitlines()
    overdue = ok(signoff(dev_stack, "list", "--overdue")).splitlines()

    assert everything[0].split() == ["ID", "STATUS", "OVERDUE", "KIND", "OWNER", "STARTED"]
    assert any(line.startswith("launch-mine-launch-") for line in everything)
    assert [line.split()[0] for line in overdue[2:]] == [late]
    assert overdue[2].split()[2] == "1"  # the draft


def test_mine_lists_someones_work_overdue_first(dev_stack: DevStack, late: str) -> None:
    table = ok(signoff(dev_stack, "mine", "--person", COMMANDER)).splitlines()
    as_json = json.loads(ok(signoff(dev_stack, "mine", "--person", COMMANDER, "--format", "json")))
    nobodys = ok(signoff(dev_stack, "mine", "--person", "nobody@example.com"))

    assert table[0].startswith(f"what waits on {COMMANDER} (today is ")
    assert table[2].split()[:2] == ["DUE", "WHAT"]
    [row] = [line for line in table[4:] if late in line]
    assert "overdue" in row and "item draft:" in row
    [entry] = [e for e in as_json["entries"] if e["process"]["id"] == late]
    assert (entry["what"], entry["key"], entry["overdue"]) == ("item", "draft", True)
    assert entry["process"]["link"] == f"{dev_stack.base}/processes/{late}"
    assert nobodys.strip() == "nothing waits on nobody@example.com in a running process"


def test_mine_is_your_own_unless_you_are_an_admin(dev_stack: DevStack, late: str) -> None:
    token = token_of(dev_stack, "--user", COMMANDER, "--role", "member", "--name", "laptop")

    own = json.loads(ok(signoff(dev_stack, "mine", "--format", "json", SIGNOFF_TOKEN=token)))
    refusal = refused(signoff(dev_stack, "mine", "--person", "vp@example.com", SIGNOFF_TOKEN=token))

    assert own["person"] == COMMANDER and [e["key"] for e in own["entries"]] == ["draft"]
    assert "only an admin sees another person's work" in refusal
    assert refused(signoff(dev_stack, "mine", "--format", "xml")).startswith("signoff: --format must be table or json")


def test_show_says_who_a_process_waits_on_and_what_is_next(dev_stack: DevStack, late: str) -> None:
    launch_date = datetime.now(UTC).date() + timedelta(days=60)
    shown = ok(signoff(dev_stack, "show", late))
    launch = ok(signoff(dev_stack, "show", f"launch-mine-launch-{launch_date}"))

    assert f"waiting on {COMMANDER}: 1 open item, 1 overdue" in shown
    assert f"next: Release plan and date check due · {launch_date - timedelta(days=28)}" in launch
