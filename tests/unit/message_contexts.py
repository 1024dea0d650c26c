"""What the launch workflow (and the activities) give each message template, for the template tests."""

from __future__ import annotations

from typing import Any

BASE: dict[str, Any] = {
    "product": "Acme Analytics 2.0",
    "launch_date": "2026-12-15",
    "owner": "pm@example.com",
    "about": "the launch of Acme Analytics 2.0 on 2026-12-15",
    "process_url": "https://signoff.example.com/processes/launch-acme-analytics-2-0-2026-12-15",
}

ITEMS = [
    {"key": "documentation", "title": "Product documentation", "owner": "docs@example.com",
     "due": "2026-12-05", "issue_key": "LAUNCH-6"},
    {"key": "release-notes", "title": "Release notes", "owner": "docs@example.com",
     "due": "2026-12-08", "issue_key": ""},
]  # fmt: skip

APPROVAL_URL = "https://signoff.example.com/approve/abc.def?x=1&y=2"

MESSAGE = {
    "subject": "Acme Analytics 2.0: maintenance on Sunday",
    "body": "We will upgrade **Acme Analytics 2.0** on Sunday.\n\n- Dashboards: read-only\n- Exports: paused\n\n"
    "<script>alert(1)</script> & thanks.",
}

INCIDENT = {
    "incident": "INC-42", "incident_title": "Acme Analytics 2.0 checkout errors", "severity": "SEV2",
    "commander": "ic@example.com", "process_id": "postmortem-inc-42",
}  # fmt: skip

ACTIONS = [
    {"key": "action-1", "title": "Alert on error rate", "owner": "sre@example.com", "due": "2026-12-09",
     "issue_key": "OPS-7", "priority": "P1"},
    {"key": "action-2", "title": "Canary deploys", "owner": "dev@example.com", "due": "2026-12-31",
     "issue_key": "", "priority": "P3"},
]  # fmt: skip

RETIRING = {
    "about": "the end of life of Acme Analytics 2.0", "announce_date": "2027-01-10", "end_of_sale": "2027-02-01",
    "end_of_support": "2027-04-01", "shutdown_date": "2027-06-30", "migration_guide": "https://docs.example.com/migrate",
}  # fmt: skip

# What the workflows (and the mail activity) give each email template.
CONTEXTS: dict[str, dict[str, Any]] = {
    "announcement": {},
    "approval_request": {
        "reminder": False, "done": 10, "total": 12, "open_items": ITEMS,
        "approval_url": APPROVAL_URL, "expires_at": "2026-12-22 09:00 UTC",
    },
    "comms_decision": MESSAGE | {
        "process_id": "comms-acme-analytics-2-0-maintenance-on-sunday-2026-12-01",
        "approver": "cs@example.com", "role": "Customer Success", "decision": "changes", "comment": "Say when it ends.",
        "version": 2, "gate_status": "changes_requested", "approvals": 0, "required": 2,
    },
    "comms_ended": MESSAGE | {"outcome": "cancelled", "by": "pm@example.com", "reason": "Maintenance moved."},
    "comms_message": MESSAGE,
    "comms_review": MESSAGE | {
        "reminder": False, "version": 2, "content_hash": "a" * 64, "role": "Engineering", "audience_size": 1200,
        "send_at": "2026-12-01 08:00 UTC", "approval_url": APPROVAL_URL, "expires_at": "2026-12-05 09:00 UTC",
    },
    "comms_sent": MESSAGE | {
        "version": 2, "content_hash": "b" * 64, "approvers": ["cs@example.com", "eng@example.com"], "sent": 1199,
        "total": 1200, "channels": ["#status"], "refused": {"gone@example.com": "550 no such mailbox"},
    },
    "postmortem_actions": INCIDENT | {"items": ACTIONS},
    "postmortem_decision": INCIDENT | {
        "approver": "cto@example.com", "decision": "changes", "comment": "Add the timeline.",
        "gate_status": "changes_requested", "approvals": 0, "required": 1,
    },
    "postmortem_ended": INCIDENT | {"outcome": "cancelled", "by": "ic@example.com", "reason": "Duplicate of INC-41."},
    "postmortem_escalation": INCIDENT | {"items": ACTIONS},
    "postmortem_kickoff": INCIDENT | {
        "due": "2026-12-07", "issue_key": "OPS-6", "resolved_at": "2026-12-02 14:05 UTC",
        "reviewers": ["cto@example.com"], "prompts": ["Timeline: detection, mitigation, resolution (UTC)"],
    },
    "postmortem_reminder": INCIDENT | {"kind": "overdue", "items": ACTIONS[:1]},
    "postmortem_review": INCIDENT | {
        "reminder": False, "issue_key": "OPS-6", "actions": 2, "approval_url": APPROVAL_URL,
        "expires_at": "2026-12-21 09:00 UTC",
    },
    "postmortem_summary": INCIDENT | {
        "done": 1, "wont_do": 1, "issue_key": "OPS-6", "approvers": ["cto@example.com"],
        "actions": [ACTIONS[0] | {"status": "done", "note": ""},
                    ACTIONS[1] | {"status": "wont_do", "note": "Replaced by flags."}],
    },
    "eol_approval": RETIRING | {
        "reminder": False, "open_tasks": ITEMS[:1], "approval_url": APPROVAL_URL, "expires_at": "2027-07-07 09:00 UTC",
    },
    "eol_decision": RETIRING | {
        "approver": "vp@example.com", "decision": "reject", "comment": "Not before the migration guide is out.",
        "gate_title": "Pull the plug", "gate_status": "rejected", "approvals": 0, "required": 1,
    },
    "eol_ended": RETIRING | {"outcome": "cancelled", "by": "pm@example.com", "reason": "The product stays."},
    "eol_milestone": RETIRING | {"milestone": "end-of-sale", "role": "sales"},
    "eol_reminder": RETIRING | {"kind": "overdue", "items": ITEMS},
    "eol_tasks": RETIRING | {"items": ITEMS},
    "decision": {
        "approver": "vp@example.com", "decision": "changes", "comment": "Ship it\nafter the docs land.",
        "gate_title": "Go / no-go", "gate_status": "open", "approvals": 1, "required": 2,
    },
    "changed": {
        "by": "pm@example.com", "reason": "Legal needs a week <more>.", "items": ITEMS,
        "changes": ["the launch moves from 2026-12-15 to 2026-12-22 (7 days later)",
                    "the go / no-go decision opens on 2026-12-19"],
    },
    "delivery_problem": {
        "what": "create the Jira issue \"Legal review\"",
        "error": "Jira: the account may not create issues in LAUNCH: grant it 'Create issues' <here>",
    },
    "ended": {"outcome": "cancelled", "by": "pm@example.com", "reason": "Postponed to Q1."},
    "escalation": {"items": ITEMS, "days_late": 3},
    "kickoff_owner": {
        "items": [ITEMS[0] | {"late": True}, ITEMS[1] | {"late": False}],
        "compressed": {"days_left": 14, "assumed_days": 28},
        "unreminded": [{"title": "Product documentation", "late": True, "reminder": "2026-12-07"}],
    },
    "launch_clash": {
        "clashes": [
            "Launch: Acme Beta on 2026-12-15 (launch-acme-beta-2026-12-15) is also on 2026-12-15, with vp@example.com"
        ]
    },
    "on_hold": {"waiting_on": ["vp@example.com", "legal@example.com"], "expires_at": "2026-12-22 09:00 UTC"},
    "overdue": {"items": ITEMS},
    "reminder": {"items": ITEMS},
    "step_held": {
        "held_step": "go-no-go", "step_title": "Go / no-go", "what": "Go / no-go was rejected",
        "why": "legal@example.com: the trademark <is> taken", "until": "2026-12-22 09:00 UTC",
        "actions": ["rerun", "end"], "process_id": "launch-acme-analytics-2-0-2026-12-15",
    },
    "step_skipped": {
        "step_title": "Customer notice", "what": "The customer notice was not sent", "by": "pm@example.com",
        "reason": "Sent by hand <today>",
    },
    "schedule_refused": {
        "schedule": "acme-monthly-release", "kind": "launch", "day": "2027-01-01", "created_by": "pm@example.com",
        "reason": "params.template: no template named 'acme-release' <any more>",
        "schedules_url": "https://signoff.example.com/schedules",
    },
}  # fmt: skip

# Sentences each email must carry in both its text and its HTML.
# Chat-only templates (no HTML twin).
CHAT_CONTEXTS: dict[str, dict[str, Any]] = {
    "announcement_chat": {},
    "comms_message_chat": MESSAGE,
    "eol_approval_chat": RETIRING | {"reminder": False, "open_tasks": [], "expires_at": "2027-07-07 09:00 UTC"},
    "eol_kickoff_chat": RETIRING | {"tasks": 8},
    "eol_milestone_chat": RETIRING | {"milestone": "shutdown"},
    "postmortem_kickoff_chat": INCIDENT | {"due": "2026-12-07", "issue_key": "OPS-6"},
    "postmortem_review_chat": INCIDENT | {"reminder": True, "actions": 0, "expires_at": "2026-12-21 09:00 UTC"},
    "postmortem_summary_chat": INCIDENT | {"done": 2, "wont_do": 0},
    "comms_review_chat": MESSAGE
    | {
        "reminder": True,
        "version": 1,
        "role": "",
        "audience_size": 1,
        "expires_at": "2026-12-05 09:00 UTC",
    },
    "approval_request_chat": {
        "reminder": False,
        "done": 10,
        "total": 12,
        "open_items": ITEMS,
        "expires_at": "2026-12-22 09:00 UTC",
    },
    "approval_settled_chat": {
        "decision": "approve",
        "via": "link",
        "at": "2026-12-12 10:04 UTC",
        "comment": "Go & ship <it>",
        "gate_title": "Go / no-go",
        "gate_status": "approved",
    },
    "ended_chat": {"outcome": "rejected at go / no-go", "by": "", "reason": ""},
    "gate_open_chat": {"approvers": ["vp@example.com", "legal@example.com"], "required": 2},
    "kickoff_chat": {
        "items": ITEMS,
        "epic_key": "LAUNCH-1",
        "gate_opens": "2026-12-12",
        "compressed": None,
        "late": ITEMS[:1],
    },
}


KEY_FACT: dict[str, str] = {
    name: "subject" for name in ("comms_decision", "comms_ended", "comms_message", "comms_review", "comms_sent")
} | {
    "comms_message_chat": "subject",
    "comms_review_chat": "subject",
    "delivery_problem": "about",
    "changed": "about",
    "schedule_refused": "reason",
    "approval_settled_chat": "about",
    "step_held": "about",
    "step_skipped": "about",
} | {
    name: "incident"
    for name in (
        "postmortem_actions", "postmortem_decision", "postmortem_ended", "postmortem_escalation", "postmortem_kickoff",
        "postmortem_kickoff_chat", "postmortem_reminder", "postmortem_review", "postmortem_review_chat",
        "postmortem_summary", "postmortem_summary_chat",
    )
}  # fmt: skip
"""The variable each template cannot do without, for the missing-variable tests (``product`` for the rest)."""
