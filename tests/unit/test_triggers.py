"""Trigger rules: which events fire which rule, and how parameters are filled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.triggers import TriggerError, fill, load_triggers, lookup


def jira_event(
    status: str = "Ready for launch", category: str = "indeterminate", project: str = "LAUNCH"
) -> dict[str, Any]:
    return {
        "webhookEvent": "jira:issue_updated",
        "issue": {
            "key": f"{project}-7",
            "fields": {
                "summary": "Acme Analytics 3.0",
                "duedate": "2026-12-30",
                "project": {"key": project},
                "status": {"name": status, "statusCategory": {"key": category}},
                "reporter": {"emailAddress": "pm@example.com"},
                "assignee": {"emailAddress": "vp@example.com"},
                "labels": ["signoff", "x"],
            },
        },
    }


def test_the_bundled_rules_load() -> None:
    names = [rule.name for rule in load_triggers().rules]
    assert names == ["launch-from-jira", "postmortem-from-jira", "item-done-from-jira", "launch-from-event"]


def test_a_launch_issue_ready_for_launch_starts_a_launch_with_mapped_params() -> None:
    [rule] = load_triggers().matching("jira", "jira:issue_updated", jira_event())
    assert rule.start is not None and rule.start.kind == "launch"
    assert fill(rule.start.key, jira_event()) == "LAUNCH-7"
    assert fill(rule.start.params, jira_event()) == {
        "product": "Acme Analytics 3.0",
        "launch_date": "2026-12-30",
        "owner": "pm@example.com",
        "approvers": "vp@example.com",
        "jira_project": "LAUNCH",
    }


def test_conditions_compare_case_insensitively_and_must_all_hold() -> None:
    triggers = load_triggers()
    assert [r.name for r in triggers.matching("jira", "jira:issue_updated", jira_event("READY FOR LAUNCH"))] == [
        "launch-from-jira"
    ]
    assert triggers.matching("jira", "jira:issue_updated", jira_event(project="OPS")) == []
    assert triggers.matching("jira", "jira:issue_created", jira_event()) == []
    assert triggers.matching("events", "jira:issue_updated", jira_event()) == []


def test_an_issue_reaching_done_fires_the_item_rule() -> None:
    [rule] = load_triggers().matching("jira", "jira:issue_updated", jira_event("Done", "done", "OPS"))
    assert rule.item_done is not None
    assert fill(rule.item_done.issue, jira_event("Done", "done", "OPS")) == "OPS-7"


def test_lookup_and_fill_handle_lists_missing_paths_and_whole_values() -> None:
    event = jira_event()
    assert lookup(event, "issue.fields.labels.0") == "signoff"
    assert lookup(event, "issue.fields.nope.deeper") is None
    assert fill("{issue.fields.labels}", event) == ["signoff", "x"], "a whole placeholder keeps its type"
    assert fill("Launch of {issue.fields.summary} ({issue.missing})", event) == "Launch of Acme Analytics 3.0 ()"


def test_a_broken_rules_file_names_the_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "triggers.yaml"
    path.write_text("rules:\n  - name: x\n    source: email\n    event: e\n")
    with pytest.raises(TriggerError, match=r"triggers.yaml: rules\.0\.source"):
        load_triggers(path)


def test_no_rules_file_means_no_rules(tmp_path: Path) -> None:
    assert load_triggers(tmp_path / "absent.yaml").rules == []
