"""The holds a fault scenario arms (`tests.faults.scenarios`): which request of which server to stop, and when.

Each function takes what names the request in a process (its marker, its
recipient, its Slack key) and returns how to arm the hold for a process
about to start; `tests.faults.servers.Hold` says what a hold is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.jira import marker_label
from tests.faults.processes import Process
from tests.faults.servers import Hold, Phase, Request

ISSUE_PATH = "/rest/api/2/issue"
ISSUE = f"POST {ISSUE_PATH}"
SEARCH_PATH = "/rest/api/2/search"
SEARCHES = frozenset(f"{method} {SEARCH_PATH}{end}" for method in ("GET", "POST") for end in ("", "/jql"))
"""Jira's searches, old and new; a search's retry is another one (the issue's own moves carry its label too)."""
GATES = {"launch": "go-no-go", "comms": "review", "postmortem": "review", "eol": "pull-the-plug"}


def _hold(
    label: str, server: str, when: Phase, signature: str, matches: Callable[[Request], bool],
    resolve: Callable[[Request], str] | None = None, retry_on: frozenset[str] = frozenset(),
) -> Hold:  # fmt: skip
    return Hold(label, server, when, matches, signature, resolve, retry_on)


def smtp_data(key: Callable[[Process], str], recipient: Callable[[Process], str] | None = None) -> Any:
    """The DATA of the email keyed `key` (to `recipient`), held after the server took it: no 250 reaches the
    worker (the at-least-once case)."""

    def arm(p: Process) -> Hold:
        wanted, to = key(p), recipient(p) if recipient else None
        return _hold(
            "after DATA", "smtp", "after", wanted,
            lambda r: r.what == "DATA" and r.detail["key"].startswith(wanted) and (to is None or to in r.detail["to"]),
            resolve=lambda r: str(r.detail["key"]),
        )  # fmt: skip

    return arm


def smtp_rcpt(recipient: Callable[[Process], str]) -> Any:
    """The email to `recipient`, held at RCPT: the message has not gone out."""

    def arm(p: Process) -> Hold:
        to = recipient(p)
        return _hold("before DATA", "smtp", "before", to, lambda r: r.what == "RCPT" and r.detail["to"] == to)

    return arm


SLACK_RETRY = {
    "chat.postMessage": frozenset({"conversations.history", "chat.postMessage"}),
    "chat.update": frozenset({"chat.update"}),
}
"""What counts as a Slack call's retry: looking for the post or posting (the look-up of the person comes first,
before the ledger lets the retry go on), or the edit."""


def slack(method: str, when: Phase, key: Callable[[Process], str], signature: Callable[[Process], str]) -> Any:
    """The Slack call `method` for the post keyed `key`, held `when`."""

    def arm(p: Process) -> Hold:
        wanted = key(p)
        return _hold(
            f"{method} {when}", "slack", when, signature(p),
            lambda r: r.what == method and any(s.startswith(wanted) for s in r.sigs), retry_on=SLACK_RETRY[method],
        )  # fmt: skip

    return arm


def jira_create(marker: Callable[[Process], str], when: Phase) -> Any:
    def arm(p: Process) -> Hold:
        label = marker_label(marker(p))
        return _hold(f"create {when}", "jira", when, label, lambda r: r.what == ISSUE and label in r.sigs)

    return arm


def jira_move(marker: Callable[[Process], str], when: Phase, status: str) -> Any:
    """A transition of the issue of `marker` while it stands in `status` (``In Progress``: the walk's last move)."""

    def arm(p: Process) -> Hold:
        label = marker_label(marker(p))
        return _hold(
            f"move from {status} {when}", "jira", when, label,
            lambda r: r.what.startswith("POST") and r.what.endswith("/transitions") and label in r.sigs
            and r.detail.get("status") == status,
        )  # fmt: skip

    return arm


def audit_write() -> Any:
    def arm(p: Process) -> Hold:
        return _hold("table locked", "audit", "before", "", lambda r: False)

    return arm


def table_locked(server: str, label: str) -> Any:
    """A schedule's run blocked on a table (`Rig.locks`: ``people``, its creator's check before it starts the
    process; ``audit``, its record once the process started)."""

    def arm(p: Process) -> Hold:
        return _hold(label, server, "before", "", lambda r: False)

    return arm


def jira_search(marker: Callable[[Process], str], when: Phase) -> Any:
    """A search that asks where the issue of `marker` stands (the reconciliation's ``key in (…)``)."""

    def arm(p: Process) -> Hold:
        label = marker_label(marker(p))
        return _hold(
            f"search {when}", "jira", when, label,
            lambda r: r.what in SEARCHES and r.detail["jql"].startswith("key in") and label in r.sigs,
            retry_on=SEARCHES,
        )  # fmt: skip

    return arm


def jira_edit(marker: Callable[[Process], str], when: Phase) -> Any:
    """The edit of the issue of `marker` (``PUT /issue/KEY``: its assignee or due date)."""

    def arm(p: Process) -> Hold:
        label = marker_label(marker(p))
        return _hold(
            f"edit {when}", "jira", when, label, lambda r: r.what.startswith(f"PUT {ISSUE_PATH}/") and label in r.sigs
        )

    return arm


def jira_comment(marker: Callable[[Process], str], when: Phase) -> Any:
    """A comment added to the issue of `marker` (``POST /issue/KEY/comment``)."""

    def arm(p: Process) -> Hold:
        label = marker_label(marker(p))
        return _hold(
            f"comment {when}", "jira", when, label,
            lambda r: r.what.startswith(f"POST {ISSUE_PATH}/") and r.what.endswith("/comment") and label in r.sigs,
        )  # fmt: skip

    return arm


def approval(p: Process, who: str, reminder: bool = True) -> str:
    gate = GATES[p.kind]
    email = p.cast.email(who)
    return f"{p.id}:approval:{gate}:1:{email}:0" if reminder else f"{p.id}:approval-chat:{gate}:1:{email}"


def chat_request(who: str) -> Callable[[Process], str]:
    return lambda p: approval(p, who, reminder=False)


def dm(who: str) -> Callable[[Process], str]:
    return lambda p: p.cast.dm(who)


def channel(p: Process) -> str:
    return p.cast.channel_id
