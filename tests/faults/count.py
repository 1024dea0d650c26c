"""Counting what came out of a run, from what the servers themselves received.

- **Duplicates**: two Jira issues with one marker label, two comments with one
  tag; two Slack messages with one metadata key; two different Message-IDs
  for one email key and recipient. The same Message-ID received twice is not
  a duplicate: it is an email *sent again* after an unknown outcome, which
  mail systems collapse into one (counted apart).
- **Lost**: a send the ledger (outbox table) does not record as made, or
  records as made where the server has nothing: an email not received by a
  recipient under its Message-ID, a Slack post not in its channel, a chat
  request not edited after its approver decided; an item without its Jira
  issue, or marked done with its issue not done; a ``delivery_failed`` event,
  a message left undelivered in the process's view.
- **Chains**: every process's audit chain verifies, and holds as many events
  as the process says it recorded.
- **Jira issue edits** (an item reassigned, a due date moved: ``update_issue``):
  every edit the trail records, and every reassignment, is on its issue with
  its comment (else lost); an edit applied twice is harmless (the same fields
  set again) and counted apart, as an email sent again is.
- **Schedules** (a process started by a schedule's runs): every run ended and
  is in the schedule's trail once (twice: a duplicate; never: lost), the
  process was started once (two executions under its id, or two runs saying
  they started it: a duplicate), and each refused run emailed its creator.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from domain.enums import ProcessStatus
from domain.requests import process_label
from domain.schedules import RUN_REFUSED, RunOutcome, trail_of
from domain.views import ProcessView
from tests.faults import scheduled
from tests.faults.processes import Process
from tests.faults.rig import Rig
from tests.faults.servers import header

MARKER = re.compile(r"^signoff-[0-9a-f]{20}$")
TAG = re.compile(r"\[signoff:[0-9a-f]{12}\]")


@dataclass
class Tally:
    """What a set of processes left behind."""

    processes: int = 0
    completed: int = 0
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    sent_again: int = 0
    """Emails received again under the Message-ID of one already received."""
    trail_again: int = 0
    """``message_sent`` events saying "again"."""
    emails: int = 0
    posts: int = 0
    issues: int = 0
    events: int = 0
    updates: int = 0
    """Jira issue edits carried out (distinct: an issue and the fields set on it)."""
    updated_again: int = 0
    """Jira issue edits carried out again (the same fields set on the same issue: harmless)."""
    runs: int = 0
    """Runs of schedules checked."""
    scheduled: int = 0
    """Processes started by schedules' runs (executions under their ids)."""
    problems: list[str] = field(default_factory=list)
    """Processes not completed, chains that do not verify, trails short of their events."""

    @property
    def clean(self) -> bool:
        return self.completed == self.processes and not (self.duplicates or self.lost or self.problems)


async def views_of(rig: Rig, process: Process) -> dict[str, ProcessView]:
    """The final view of a process and of each process it started."""
    views = {process.id: process.view} if process.view else {}
    for child in process.children:
        handle = rig.client.get_workflow_handle(child, result_type=ProcessView)
        views[child] = await handle.result()
    return views


async def tally(rig: Rig, processes: list[Process]) -> Tally:
    result = Tally()
    for process in processes:
        views = await views_of(rig, process)
        _count(rig, process, views, result)
        if process.schedule:
            runs = await scheduled.runs_of(rig, process.schedule)
            _schedule(rig, process, runs, await scheduled.executions(rig, process.id), result)
    return result


def _count(rig: Rig, process: Process, views: dict[str, ProcessView], out: Tally) -> None:
    ids = set(process.ids)
    out.processes += 1
    if process.refused:
        done = process.status == "refused, told"  # (every run refused: `scheduled.drive_refused`)
    else:
        done = process.view is not None and process.view.status == ProcessStatus.COMPLETED
    if done:
        out.completed += 1
    else:
        out.problems.append(f"{process.id} ended {process.status}")
    for pid, view in views.items():
        _trail(rig, pid, view, out)
    _jira(rig, ids, views, out)
    _edits(rig, ids, views, out)
    _slack(rig, ids, views, out)
    _email(rig, ids, out)


def _edits(rig: Rig, ids: set[str], views: dict[str, ProcessView], out: Tally) -> None:
    """Every issue edit the trail records, and every item reassigned, on its issue; edits made twice counted."""
    labels = {process_label(pid) for pid in ids}
    mine = {k for k, i in rig.jira.issues.items() if labels & set(i["fields"].get("labels") or [])}
    applied = Counter(edit for edit in list(rig.jira.edits) if edit[0] in mine)
    out.updates += len(applied)
    out.updated_again += sum(n - 1 for n in applied.values())
    for pid, view in views.items():
        issues = {item.key: item.issue_key for item in view.items}
        for event in rig.store.trail(pid):
            if event.action == "issue_updated":
                _edit_on_issue(rig, pid, event.details, out)
            changes = event.details.get("changes") if event.action == "edited" else None
            for change in changes or []:
                what, before, after = str(change.get("what", "")), change.get("before"), change.get("after")
                key = issues.get(what.removeprefix("owner:")) if what.startswith("owner:") else None
                if not key or key not in rig.jira.issues:
                    continue
                fields = rig.jira.issues[key]["fields"]
                if (fields.get("assignee") or {}).get("emailAddress") != after:
                    out.lost.append(f"{pid}: {what} reassigned to {after}, its issue {key} not")
                said = f"Reassigned from {before} to {after}"
                if not any(said in c["body"] for c in rig.jira.comments.get(key, [])):
                    out.lost.append(f"{pid}: {key} reassigned without its comment ({said})")


def _edit_on_issue(rig: Rig, pid: str, details: dict[str, object], out: Tally) -> None:
    key = str(details.get("issue"))
    fields = (rig.jira.issues.get(key) or {}).get("fields")
    if fields is None:
        out.lost.append(f"{pid}: issue {key} recorded as updated, not in Jira")
        return
    if "assignee" in details and (fields.get("assignee") or {}).get("emailAddress") != details["assignee"]:
        out.lost.append(f"{pid}: {key} recorded as assigned to {details['assignee']}, not in Jira")
    if "due" in details and fields.get("duedate") != details["due"]:
        out.lost.append(f"{pid}: {key} recorded as due {details['due']}, due {fields.get('duedate')} in Jira")


RUN_RECORDS = ("run_started", "run_found_started", "run_refused")
"""What a schedule's trail says of a run: each run is recorded by exactly one of them, once."""


def _schedule(rig: Rig, process: Process, runs: dict[str, RunOutcome | str], executions: int, out: Tally) -> None:
    """The schedule's runs, its trail and the process its runs started (`tests.faults.scheduled`)."""
    assert process.schedule is not None
    trail = trail_of(process.schedule)
    out.problems += rig.store.verify(trail)
    events = list(rig.store.trail(trail))
    out.events += len(events)
    recorded = Counter(str(e.details.get("run")) for e in events if e.action in RUN_RECORDS)
    expected = scheduled.REFUSED_RUNS if process.refused else scheduled.RUNS
    out.runs += len(runs)
    if len(runs) != expected:
        out.problems.append(f"{trail}: {len(runs)} runs made of {expected}")
    for run, outcome in runs.items():
        if recorded[run] > 1:
            out.duplicates.append(f"{trail}: run {run} recorded {recorded[run]} times")
        elif not recorded[run]:
            out.lost.append(f"{trail}: run {run} not recorded")
        if process.refused:
            if not (isinstance(outcome, str) and outcome.startswith(f"{RUN_REFUSED}:")):
                out.problems.append(f"{trail}: run {run} ended {outcome}, not refused")
            elif rig.store.recorded(f"{run}:refused") is None:
                out.lost.append(f"{trail}: run {run} refused, its creator not emailed")
        elif not (isinstance(outcome, RunOutcome) and outcome.process_id == process.id):
            out.problems.append(f"{trail}: run {run} ended {outcome}, not with {process.id}")
    unexpected = [r for r in recorded if r not in runs]
    out.problems += [f"{trail}: {run} recorded, not a run of the schedule" for run in unexpected]
    said_started = sum(1 for e in events if e.action == "run_started")
    if said_started > 1:
        out.duplicates.append(f"{trail}: {said_started} runs say they started {process.id}")
    out.scheduled += executions
    if executions > (0 if process.refused else 1):
        out.duplicates.append(f"{process.id}: started {executions} times")
    elif executions < (0 if process.refused else 1):
        out.lost.append(f"{process.id}: never started by {trail}")


def _trail(rig: Rig, pid: str, view: ProcessView, out: Tally) -> None:
    out.problems += rig.store.verify(pid)
    trail = list(rig.store.trail(pid))
    out.events += len(trail)
    if len(trail) != view.recorded_events:
        out.problems.append(f"{pid}: {len(trail)} audit events stored of {view.recorded_events} recorded")
    for event in trail:
        if event.action == "delivery_failed":
            out.lost.append(f"{pid}: delivery failed ({event.details.get('error')})")
        if event.action == "message_sent" and event.details.get("again"):
            out.trail_again += 1
    out.lost += [f"{pid}: undelivered {m.what}: {m.error}" for m in view.undelivered]


def _jira(rig: Rig, ids: set[str], views: dict[str, ProcessView], out: Tally) -> None:
    labels = {process_label(pid) for pid in ids}
    issues = [i for i in rig.jira.issues.values() if labels & set(i["fields"].get("labels") or [])]
    out.issues += len(issues)
    markers: dict[str, list[str]] = defaultdict(list)
    for issue in issues:
        for label in issue["fields"]["labels"]:
            if MARKER.match(label):
                markers[label].append(issue["key"])
        tags = Counter(tag for c in rig.jira.comments.get(issue["key"], []) for tag in TAG.findall(c["body"]))
        out.duplicates += [f"Jira: {n} comments {tag} on {issue['key']}" for tag, n in tags.items() if n > 1]
    out.duplicates += [f"Jira: {len(keys)} issues {', '.join(keys)} for one marker" for keys in markers.values()
                       if len(keys) > 1]  # fmt: skip
    for pid, view in views.items():
        main = view.links.get("epic") or view.links.get("issue")
        if view.kind != "comms" and not main:
            out.lost.append(f"{pid}: no main issue")
        if main and _category(rig, main) != "done":
            out.lost.append(f"{pid}: {main} not closed")
        for item in view.items:
            if not item.issue_key:
                out.lost.append(f"{pid}: item {item.key} has no issue")
            elif item.status == "done" and item.key != "draft" and _category(rig, item.issue_key) != "done":
                out.lost.append(f"{pid}: item {item.key} done, its issue {item.issue_key} not")
        for event in rig.store.trail(pid):
            if event.action == "issue_created" and event.details.get("issue") not in rig.jira.issues:
                out.lost.append(f"{pid}: issue {event.details.get('issue')} recorded, not in Jira")


def _category(rig: Rig, key: str) -> str:
    issue = rig.jira.issues.get(key)
    return str(issue["fields"]["status"]["statusCategory"]["key"]) if issue else "missing"


def _slack(rig: Rig, ids: set[str], views: dict[str, ProcessView], out: Tally) -> None:
    posted: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (channel, ts), message in list(rig.slack.messages.items()):
        key = str(((message.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
        if key.split(":", 1)[0] in ids:
            posted[key].append((channel, ts))
    out.posts += len(posted)
    out.duplicates += [f"Slack: {len(where)} posts under {key}" for key, where in posted.items() if len(where) > 1]
    decided = {(pid, a.approver) for pid, view in views.items() for a in view.approvals}
    for pid in ids:
        for entry in rig.store.outbox(pid):
            if entry.channel != "chat":
                continue
            where = (str(entry.meta.get("channel")), str(entry.meta.get("ts")))
            if entry.meta.get("state") != "posted":
                out.lost.append(f"Slack: {entry.key} {entry.meta.get('state')}")
            elif where not in posted.get(entry.key, []):
                out.lost.append(f"Slack: {entry.key} recorded as posted at {where}, not there")
            elif ":approval-chat:" in entry.key and (pid, entry.to[0]) in decided:
                blocks = rig.slack.messages[where]["blocks"]
                if any(b.get("type") == "actions" for b in blocks):
                    out.lost.append(f"Slack: {entry.key} still has its buttons after the decision")


def _email(rig: Rig, ids: set[str], out: Tally) -> None:
    by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    copies: Counter[tuple[str, str]] = Counter()
    for received in list(rig.smtp.received):
        message = received.message
        if header(message, "X-Signoff-Process") not in ids:
            continue
        key, mid = header(message, "X-Signoff-Key"), header(message, "Message-ID")
        for to in received.rcpt_tos:
            by_key[(to, key)].add(mid)
            copies[(to, mid)] += 1
    out.duplicates += [f"email: {to} got {key} under {len(mids)} Message-IDs" for (to, key), mids in by_key.items()
                       if len(mids) > 1]  # fmt: skip
    out.sent_again += sum(n - 1 for n in copies.values())
    for pid in ids:
        for entry in rig.store.outbox(pid):
            if entry.channel != "email":
                continue
            out.emails += 1
            mid = str(entry.meta.get("message_id"))
            if entry.meta.get("state") != "sent":
                out.lost.append(f"email: {entry.key} {entry.meta.get('state')}")
                continue
            out.lost += [f"email: {entry.key} recorded as sent, not received by {to}" for to in entry.to
                         if not copies[(to, mid)]]  # fmt: skip


def seconds(values: list[float]) -> str:
    """``median (min–max)`` of a list of seconds."""
    if not values:
        return "–"
    return f"{statistics.median(values):.1f} s ({min(values):.1f}–{max(values):.1f})"
