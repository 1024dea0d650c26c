"""`signoff plan`, run as a user runs it: a launch previewed day by day in seconds, nothing sent, nothing kept.

No `signoff dev` is needed: the command runs its own time-skipping test server over a throwaway store. Each
test points SIGNOFF_DATA_DIR and TMPDIR at folders of its own and checks both are as they were afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.templates import load_template
from domain.templates import LaunchTemplate
from workers.temporal import find_binary

OWNERS = {"docs": "docs@example.com", "support": "support@example.com"}
APPROVERS = ["vp@example.com", "legal@example.com"]
TEMPLATE = load_template("launch")
assert isinstance(TEMPLATE, LaunchTemplate)


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """Where the command runs, its data dir (which must never appear) and its temporary folder."""
    folders = {"cwd": tmp_path / "cwd", "data": tmp_path / "data", "tmp": tmp_path / "tmp"}
    folders["cwd"].mkdir()
    folders["tmp"].mkdir()
    return folders


def plan(place: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    """`signoff plan ARGS` with settings of its own: no stack anywhere, the data dir and TMPDIR in `place`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env |= {"SIGNOFF_DATA_DIR": str(place["data"]), "TMPDIR": str(place["tmp"])}
    return subprocess.run(
        [find_binary("signoff"), "plan", *args],
        env=env, cwd=place["cwd"], capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def launch_args(launch_date: date, product: str = "Acme Analytics 2.0") -> list[str]:
    args = [f"--param=product={product}", f"--param=launch_date={launch_date}", "--param=owner=pm@example.com"]
    args += [f"--param=approvers={a}" for a in APPROVERS]
    args += [f"--param=owners.{role}={who}" for role, who in OWNERS.items()]
    return [*args, "--param=stakeholders=all@example.com"]


def left_nothing(place: dict[str, Path]) -> None:
    assert not place["data"].exists(), "the data dir was made"
    assert list(place["tmp"].iterdir()) == [], "the preview's folder is still there"
    assert list(place["cwd"].iterdir()) == [], "something was written where it ran"


def on(entries: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    return [e for e in entries if datetime.fromisoformat(e["at"]).date() == day]


def emails(entries: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["channel"] == "email" and subject in e["subject"]]


def test_a_launch_30_days_out_is_previewed_day_by_day_in_seconds(place: dict[str, Path]) -> None:
    today = datetime.now(UTC).date()
    launch_day = today + timedelta(days=30)
    gate_day = launch_day - timedelta(days=TEMPLATE.gate.offset_days)

    began = time.monotonic()
    result = plan(place, "launch", *launch_args(launch_day), "--format", "json")
    took = time.monotonic() - began

    assert result.returncode == 0, result.stderr
    previewed = json.loads(result.stdout)
    timeline = previewed["timeline"]
    print(f"a launch 30 days out: {took:.1f} s for the command, {previewed['seconds']} s for the preview")
    assert took < 60, "well under 20 s on an idle machine; this bound only catches a stall"
    assert previewed["id"] == f"launch-acme-analytics-2-0-{launch_day}"
    assert previewed["assumes"] == "assuming every approver approves when asked and no item is marked done"
    assert set(timeline[0]) == {"at", "process", "step", "action", "channel", "to", "subject", "body"}
    # the kickoff: each item's owner emailed their items, on the first day
    kickoff = emails(on(timeline, today), "your checklist items")
    assert sorted(who for e in kickoff for who in e["to"]) == sorted([*OWNERS.values(), "pm@example.com"])
    assert all(e["step"] == "kickoff" and "Acme Analytics 2.0" in e["body"] for e in kickoff)
    # the items left open: reminders before the gate
    assert emails(timeline, "Reminder:") and emails(timeline, "Overdue:")
    # the gate's day: each approver asked, with a link, and deciding at once
    asked = emails(on(timeline, gate_day), "Go / no-go")
    assert sorted(who for e in asked for who in e["to"]) == sorted(APPROVERS)
    assert all("/approve/" in e["body"] and e["step"] == "go-no-go" for e in asked)
    assert not emails(timeline[: timeline.index(asked[0])], "Go / no-go"), "nobody is asked before the gate's day"
    decided = [e for e in on(timeline, gate_day) if e["action"] == "decision"]
    assert sorted(e["subject"] for e in decided) == sorted(f"{a} approved (go-no-go)" for a in APPROVERS)
    # launch day: the announcement to the stakeholders and the owner, and the end
    [announced] = emails(on(timeline, launch_day), "is launched")
    assert announced["to"] == ["all@example.com", "pm@example.com"] and announced["step"] == "launch-day"
    assert not emails(timeline, "is launched")[1:], "announced once"
    left_nothing(place)


def test_the_text_timeline_says_what_it_assumes_and_prints_each_message_under_its_day(place: dict[str, Path]) -> None:
    launch_day = datetime.now(UTC).date() + timedelta(days=20)

    result = plan(place, "launch", *launch_args(launch_day, "Text Launch"), "--done-items")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Preview of Launch: Text Launch on {launch_day} (launch-text-launch-{launch_day})"
    assert lines[1] == (
        "Assuming every approver approves when asked and every item is marked done as soon as it is filed."
    )
    assert "Nothing was sent" in lines[2] and "at the end the launch is completed" in lines[3]
    day = lines.index(f"{launch_day:%Y-%m-%d %a}")
    assert "email to all@example.com and pm@example.com: Text Launch is launched" in lines[day + 1]
    assert lines[day + 2].startswith("         | ")  # the message itself, under its heading
    assert "Reminder:" not in result.stdout, "every item was done at kickoff"
    left_nothing(place)


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["launch", "--param=product=Old", "--param=launch_date=2020-01-01", "--param=owner=pm@example.com",
          "--param=approvers=vp@example.com"], "params.launch_date: 2020-01-01 is in the past"),
        (["launch", "--param=product=Nobody"], "params.owner: Field required"),
        (["nope"], "unknown process kind 'nope'"),
        (["launch", "--format", "xml"], "--format 'xml' is not one of text, json"),
    ],
    ids=["past-date", "missing-field", "unknown-kind", "bad-format"],
)  # fmt: skip
def test_bad_input_exits_2_with_a_sentence_before_anything_runs(
    place: dict[str, Path], args: list[str], sentence: str
) -> None:
    result = plan(place, *args)

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("signoff: ") and sentence in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    left_nothing(place)
