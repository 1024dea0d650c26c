"""A preview (`workers.preview.preview`) of each other kind shows its key moments on their days.

Each runs the real engine in this process: its own time-skipping test server, worker and throwaway store, as
``signoff plan`` and ``POST /api/plans`` run it. The end of life uses a copy of the bundled template with its
milestones closer together (a few weeks instead of four months), and keeps its tasks open: its shutdown adds
tasks at the moment a reminder is due, which the test server alone cannot take (workers/timeskip.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.starts import ParamsError
from config.templates import PROCESSES, Templates, load_template
from domain.templates import EolTemplate
from workers.preview import ASSUMES, ASSUMES_DONE, MAX_RECIPIENTS, preview
from workers.timeline import Plan, PlanEntry

PUBLIC_URL = "http://signoff.test"
APPROVERS = ["vp@example.com", "legal@example.com"]


def on(plan: Plan, day: date) -> list[PlanEntry]:
    return [e for e in plan.timeline if e.at.date() == day]


def emails(entries: list[PlanEntry], subject: str) -> list[PlanEntry]:
    return [e for e in entries if e.channel == "email" and subject in e.subject]


def actions(entries: list[PlanEntry], action: str) -> list[PlanEntry]:
    return [e for e in entries if e.action == action]


async def previewed(kind: str, params: dict[str, Any], folders: list[Path] | None = None, **options: Any) -> Plan:
    plan = await preview(
        kind, params, templates=Templates(folders or []), actor="pm@example.com", public_url=PUBLIC_URL, **options
    )
    assert [e.at for e in plan.timeline] == sorted(e.at for e in plan.timeline)
    return plan


@pytest.fixture
def short_eol(tmp_path: Path) -> Path:
    """The bundled end-of-life template with its milestones a week apart, one customer reminder and a week of
    data retention: the same steps in weeks, not months."""
    template = yaml.safe_load((PROCESSES / "eol.yaml").read_text())
    template["min_notice_days"] = {"end_of_sale": 7, "end_of_support": 7, "shutdown": 7}
    template["notice_reminders"]["days_before_shutdown"] = [7]
    template["data_retention_days"] = 7
    (tmp_path / "short-eol.yaml").write_text(yaml.safe_dump(template))
    return tmp_path


async def test_an_end_of_life_shows_its_notice_milestones_last_approval_and_shutdown(short_eol: Path) -> None:
    today = datetime.now(UTC).date()
    days = {"announce_date": 3, "end_of_sale": 10, "end_of_support": 17, "shutdown_date": 24}
    params: dict[str, Any] = {key: (today + timedelta(days=n)).isoformat() for key, n in days.items()}
    params |= {
        "product": "Legacy Reports", "customers": ["ana@customer.example", "bo@customer.example"],
        "migration_guide": "https://docs.example.com/migrate", "approvers": APPROVERS, "owner": "pm@example.com",
        "owners": {"sales": "sales@example.com", "support": "support@example.com"}, "template": "short-eol",
    }  # fmt: skip
    gate = load_template("short-eol", "eol", [short_eol])
    assert isinstance(gate, EolTemplate)

    plan = await previewed("eol", params, [short_eol])

    day = {key: today + timedelta(days=n) for key, n in days.items()}
    assert plan.assumes == ASSUMES and plan.id == f"eol-legacy-reports-{day['shutdown_date']}"
    # kickoff: the teams first, then the customer notice reviewed (a child process) and approved at once
    assert emails(on(plan, today), "Your tasks for the end of life of Legacy Reports")
    notice = [e for e in on(plan, today) if e.process != plan.id]
    assert sorted(e.subject for e in actions(notice, "decision")) == sorted(f"{a} approved (review)" for a in APPROVERS)
    # the customers hear on the announce date, from the notice
    [told] = [e for e in emails(on(plan, day["announce_date"]), "will be retired on") if "bo@customer.example" in e.to]
    assert told.to == ["ana@customer.example", "bo@customer.example"] and told.process != plan.id
    # the milestones, each on its day
    assert emails(on(plan, day["end_of_sale"]), "end of sale today")
    assert emails(on(plan, day["end_of_support"]), "end of support today")
    # the last approval, the gate's days before the shutdown, asked and given at once
    gate_day = day["shutdown_date"] - timedelta(days=gate.gate.offset_days)
    asked = emails(on(plan, gate_day), "Pull the plug on")
    assert sorted(who for e in asked for who in e.to) == sorted(APPROVERS)
    assert len(actions(on(plan, gate_day), "decision")) == 2
    # the shutdown adds its tasks; the open tasks were escalated to the owner on the way
    assert [e.subject for e in actions(on(plan, day["shutdown_date"]), "milestone")] == ["shutdown"]
    assert emails(plan.timeline, "Late:") and actions(plan.timeline, "escalation")
    assert plan.status == "running", "its tasks are open: the data-retention step waits for them"


async def test_a_postmortem_left_open_is_reminded_and_escalated_and_never_reviewed() -> None:
    resolved = datetime.now(UTC) - timedelta(hours=1)
    params = {
        "incident": "INC-4242", "title": "Checkout errors", "severity": "SEV2", "commander": "ic@example.com",
        "participants": ["sre@example.com"], "reviewers": ["cto@example.com"], "resolved_at": resolved.isoformat(),
    }  # fmt: skip

    plan = await previewed("postmortem", params)

    due = resolved.date() + timedelta(days=5)  # SEV2's days in the bundled template
    [kickoff] = emails(on(plan, resolved.date()), f"draft due {due}")
    assert kickoff.to == ["ic@example.com", "sre@example.com"]
    assert [e for e in emails(plan.timeline, "Reminder:") if e.at.date() < due]
    late = [e for e in actions(plan.timeline, "escalation") if e.at.date() > due]
    assert late and all(e.subject == "escalated to the owner: draft overdue" for e in late)
    assert not actions(plan.timeline, "review_requested"), "the draft was never done"
    assert plan.status == "running"


async def test_a_postmortem_with_its_draft_done_is_reviewed_and_published() -> None:
    params = {
        "incident": "INC-4343", "title": "Search outage", "severity": "SEV1", "commander": "ic@example.com",
        "participants": ["sre@example.com"], "reviewers": ["cto@example.com"],
        "resolved_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }  # fmt: skip

    plan = await previewed("postmortem", params, done_items=True)

    assert plan.assumes == ASSUMES_DONE and plan.status == "completed"
    story = [e.action for e in plan.timeline if e.channel is None]
    assert story.index("draft_done") < story.index("review_requested") < story.index("decision")
    assert story.index("review_closed") < story.index("completed")
    [summary] = emails(plan.timeline, "Post-mortem of INC-4343 closed")
    assert summary.to == ["cto@example.com", "ic@example.com", "sre@example.com"]
    assert not emails(plan.timeline, "Reminder:")


async def test_a_message_is_reviewed_at_once_and_goes_out_at_its_send_time() -> None:
    send_at = (datetime.now(UTC) + timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)
    params = {
        "subject": "Maintenance on Sunday", "body": "We upgrade **Acme** on Sunday.",
        "audience": ["ana@customer.example", "bo@customer.example"],
        "reviewers": ["cs@example.com:Customer Success", "eng@example.com:Engineering"],
        "owner": "pm@example.com", "send_at": send_at.isoformat(),
    }  # fmt: skip

    plan = await previewed("comms", params)

    first = plan.timeline[0].at.date()
    asked = emails(on(plan, first), 'Review requested: "Maintenance on Sunday"')
    assert sorted(who for e in asked for who in e.to) == ["cs@example.com", "eng@example.com"]
    assert len(actions(on(plan, first), "decision")) == 2
    [scheduled] = actions(plan.timeline, "scheduled")
    assert scheduled.subject == f"scheduled to go out {send_at:%Y-%m-%d %H:%M} UTC"
    customers = [e for e in on(plan, send_at.date()) if e.channel == "email" and e.subject == "Maintenance on Sunday"]
    assert [e.to for e in customers] == [["ana@customer.example", "bo@customer.example"]], "one entry: the batch"
    assert "We upgrade **Acme** on Sunday." in customers[0].body
    assert plan.status == "completed" and plan.ends.date() == send_at.date()


async def test_a_message_to_more_than_a_preview_shows_is_refused_before_anything_runs() -> None:
    audience = [f"c{n}@customer.example" for n in range(MAX_RECIPIENTS + 1)]
    send_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    params = {
        "subject": "Maintenance", "body": "We upgrade on Sunday.", "audience": audience,
        "reviewers": ["cs@example.com"], "owner": "pm@example.com", "send_at": send_at.isoformat(),
    }  # fmt: skip

    with pytest.raises(ParamsError) as refused:
        await previewed("comms", params)

    [error] = refused.value.errors
    assert error["loc"] == ["params", "audience"]
    assert error["msg"] == "a preview shows up to 500 recipients; this one has 501 — start it, or preview with fewer"
