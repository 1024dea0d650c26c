"""A previewed plan's timeline (`workers.preview`): its models, how it is put together, and how it reads.

The timeline is the process's audit trail and every message its outbox recorded, merged in time order:
the trail says who was asked what, who decided, what was reminded, escalated or reached; each message
(email, chat post, tracker issue) is shown as rendered, under the step whose trail event it came with.
The trail's own "message sent" and "issue created" events are left out: their message stands in for them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from domain.audit import StoredAuditEvent
from domain.words import label, listed

MESSAGE_EVENTS = {"message_sent", "issue_created", "issue_transitioned", "message_updated"}
"""Trail events that a message of the timeline stands in for."""


class PlanEntry(BaseModel):
    """One moment of a previewed plan: a message as it would go out, or an event of the trail."""

    at: datetime
    process: str
    """The process it belongs to (a child process, such as an end of life's customer notice, has its own)."""
    step: str | None = None
    action: str
    """For a message: ``message_sent``, ``issue_created``, ``issue_transitioned`` or ``message_updated`` (a chat
    post edited in place); for an event, the trail's action (``gate_opened``, ``decision``, ``reminder`` …)."""
    channel: str | None = None
    """``email``, ``chat`` or ``tracker`` for a message; None for an event of the trail."""
    to: list[str] = []
    """Who receives the message (a chat post: its channel or person; an issue: its assignee); for an event,
    the people it names."""
    subject: str
    """A message's subject (an issue's summary, a chat post's channel); an event in words."""
    body: str = ""
    """A message's text as rendered (an issue: its description and fields); empty for an event."""


class Plan(BaseModel):
    """What a process would do, day by day, as a preview found it (``signoff plan``, ``POST /api/plans``)."""

    id: str
    """The id the process would have if started now."""
    kind: str
    title: str
    assumes: str
    """What the preview assumed of the people: every approver approves when asked; items open or done."""
    status: str
    """Where the process stood when the preview stopped: ``completed``, ``rejected``, or still ``running`` /
    ``waiting`` at the end of the horizon."""
    starts: datetime
    ends: datetime
    """The process's time when the preview stopped."""
    seconds: float
    """How long the preview took, in real time."""
    stopped_short: str | None = None
    """Why the preview stopped before the process's end, when its last date lies beyond what a preview can
    follow in its time (`workers.preview_check.Reach`); None when it followed the process to its end."""
    timeline: list[PlanEntry]


class Sent(BaseModel):
    """A message the preview's outbox recorded, at the process's time (not the wall clock's)."""

    at: datetime
    process: str
    channel: str | None
    """``email``, ``chat`` or ``tracker``; None for a note of the preview's own (a decision not taken)."""
    action: str
    to: list[str]
    subject: str
    body: str


def timeline(events: Iterable[StoredAuditEvent], sent: Iterable[Sent], until: datetime) -> list[PlanEntry]:
    """The trail's `events` and the `sent` messages up to `until`, in time order; each message under the step
    of the trail event it came with, identical messages of one moment (a batch) as one entry."""
    events = sorted(events, key=lambda e: (e.at, e.process_id, e.seq))
    messages = [m for m in sorted(sent, key=lambda m: m.at) if m.at <= until]
    steps = _steps_of(messages, events)
    entries = [
        PlanEntry(
            at=message.at, process=message.process, step=step, action=message.action, channel=message.channel,
            to=message.to, subject=message.subject, body=message.body,
        )
        for message, step in zip(messages, steps, strict=True)
    ]  # fmt: skip
    entries += [
        PlanEntry(
            at=event.at, process=event.process_id, step=event.step, action=event.action,
            to=_people(event.details), subject=describe(event),
        )
        for event in events
        if event.action not in MESSAGE_EVENTS and event.at <= until
    ]  # fmt: skip
    return _batched(sorted(entries, key=lambda e: e.at))


def _match(message: Sent) -> tuple[str, ...]:
    """What a message has in common with the trail event that records it (see `_event_match`)."""
    if message.action in ("issue_created", "issue_transitioned"):
        return (message.action, message.subject)
    return (message.action, message.channel or "", *sorted(message.to))


def _event_match(event: StoredAuditEvent) -> tuple[str, ...]:
    """An event's side of `_match`: the issue's summary (or move), else the channel and the people."""
    details = event.details
    if event.action == "issue_created":
        return (event.action, str(details.get("summary", "")))
    if event.action == "issue_transitioned":
        return (event.action, f"{details.get('issue')} → {details.get('status')}")
    return (event.action, str(details.get("via", "")), *sorted(map(str, details.get("to", []))))


def _steps_of(messages: list[Sent], events: list[StoredAuditEvent]) -> list[str | None]:
    """The step of each message (both in time order): that of the first trail event of its process recording it
    (same action, channel and people) not before it; for a message no event records (one of a batch), that of
    the next event of its process."""
    unused: dict[tuple[str, ...], deque[StoredAuditEvent]] = {}
    by_process: dict[str, list[StoredAuditEvent]] = {}
    for event in events:
        by_process.setdefault(event.process_id, []).append(event)
        if event.action in MESSAGE_EVENTS:
            unused.setdefault((event.process_id, *_event_match(event)), deque()).append(event)
    steps: list[str | None] = []
    for message in messages:
        candidates = unused.get((message.process, *_match(message)), deque())
        while candidates and candidates[0].at < message.at - timedelta(seconds=1):
            candidates.popleft()  # recorded before this message: no later message is its either
        if candidates:
            steps.append(candidates.popleft().step)
            continue
        after = by_process.get(message.process, [])
        following = bisect_left(after, message.at, key=lambda e: e.at)
        steps.append(after[following].step if following < len(after) else None)
    return steps


def _batched(entries: list[PlanEntry]) -> list[PlanEntry]:
    """Entries as they read: the same message to many at the same minute (a batch to customers) as one."""
    merged: list[PlanEntry] = []
    for entry in entries:
        last = merged[-1] if merged else None
        if (
            last is not None
            and entry.channel is not None
            and (last.channel, last.process, last.subject, last.body, last.action)
            == (entry.channel, entry.process, entry.subject, entry.body, entry.action)
            and entry.at - last.at < timedelta(minutes=1)
        ):
            last.to = [*last.to, *(who for who in entry.to if who not in last.to)]
            last.step = last.step or entry.step
            continue
        merged.append(entry.model_copy())
    return merged


def _people(details: dict[str, Any]) -> list[str]:
    """The people an event names (approvers asked, owners reminded), for the entry's `to`."""
    for name in ("approvers", "waiting_on", "owners", "to"):
        value = details.get(name)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    owner = details.get("owner")
    return [owner] if isinstance(owner, str) else []


def _who(details: dict[str, Any], name: str) -> str:
    value = details.get(name, [])
    return listed([str(v) for v in value]) if isinstance(value, list) else str(value)


Sentence = Callable[[StoredAuditEvent, dict[str, Any], str], str]
"""An event of the trail in words, from the event, its details and its step."""

SENTENCES: dict[str, Sentence] = {
    "started": lambda e, d, step: f"started by {e.actor}",
    "scheduled": lambda e, d, step: (
        f"scheduled to {'go out' if 'send_at' in d else 'start'} {_moment(d.get('send_at') or d.get('starts_at'))}"
    ),
    "gate_opened": lambda e, d, step: f"{step} opens (round {d.get('round')}): {_who(d, 'approvers')} decide",
    "review_requested": lambda e, d, step: f"{step} opens (round {d.get('round')}): {_who(d, 'approvers')} review",
    "approval_requested": lambda e, d, step: f"{_who(d, 'approvers')} asked to decide ({step}, round {d.get('round')})",
    "approval_reminder": lambda e, d, step: f"{_who(d, 'approvers')} reminded to decide ({step})",
    "decision": lambda e, d, step: (
        f"{e.actor} {label(d.get('decision', ''), 'decision')} ({step})"
        + (f": {d['comment']}" if d.get("comment") else "")
    ),
    "gate_closed": lambda e, d, step: f"{step} closes: {label(d.get('outcome', ''), 'gate')}",
    "review_closed": lambda e, d, step: f"{step} closes: {label(d.get('outcome', ''), 'gate')}",
    "reminder": lambda e, d, step: (
        f"{d.get('to', 'the owners')} reminded: {_who(d, 'items')} "
        f"{'overdue' if d.get('kind') == 'overdue' else 'due soon'}"
    ),
    "escalation": lambda e, d, step: f"escalated to the owner: {_who(d, 'items')} overdue",
    "launch_on_hold": lambda e, d, step: f"the launch is on hold, waiting on {_who(d, 'waiting_on')}",
    "item_done": lambda e, d, step: f"{d.get('item')} marked done by {e.actor}",
    "draft_done": lambda e, d, step: f"the draft marked done by {e.actor}",
    "milestone": lambda e, d, step: (
        label(d.get("milestone", step)) + (f": {_who(d, 'told')} told" if d.get("told") else "")
    ),
    "notice_started": lambda e, d, step: (
        f"customer notice {d.get('process')} starts, to go out {_moment(d.get('send_at'))}"
    ),
    "notice_sent": lambda e, d, step: f"customer notice {d.get('process')} sent ({d.get('outcome', '')})",
    "preapproved": lambda e, d, step: f"approved already by {_who(d, 'approvers')} (as {d.get('process')})",
    "batch_sent": lambda e, d, step: f"batch {d.get('batch')} sent: {_outcomes(d.get('outcomes', {}))}",
    "completed": lambda e, d, step: "completed" + (f": {d['outcome']}" if d.get("outcome") else ""),
    "rejected": lambda e, d, step: "rejected" + (f": {d['reason']}" if d.get("reason") else ""),
    "cancelled": lambda e, d, step: f"cancelled by {e.actor}" + (f": {d['reason']}" if d.get("reason") else ""),
    "retrospective_scheduled": lambda e, d, step: (
        f"the retrospective {d.get('process')} is scheduled for {_moment(d.get('starts_at'))}"
    ),
}
"""The events a timeline says in words of its own; any other is its action's name and its details."""


def describe(event: StoredAuditEvent) -> str:
    """An event of the trail in words, for the timeline."""
    sentence = SENTENCES.get(event.action)
    if sentence is not None:
        return sentence(event, event.details, event.step or "")
    shown = ", ".join(f"{key}: {_value(value)}" for key, value in event.details.items() if key not in HIDDEN)
    return label(event.action) + (f" ({shown})" if shown else "")


HIDDEN = {"params", "token_id", "content_hash"}
"""Details a timeline leaves out of an event it says generically: a process's parameters (the preview's
input), a link's id, a hash."""


def _moment(value: Any) -> str:
    """An ISO time from the trail as the timeline writes times: ``2027-01-15 09:00 UTC``."""
    try:
        return f"{datetime.fromisoformat(str(value)):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return str(value or "")


def _outcomes(outcomes: Any) -> str:
    """A batch's outcomes counted (a batch may go to thousands): "2 sent", "9,998 sent, 2 refused"."""
    if not isinstance(outcomes, dict):
        return str(outcomes)
    sent = sum(str(outcome).startswith("sent") for outcome in outcomes.values())
    refused = len(outcomes) - sent
    return f"{sent:,} sent" + (f", {refused:,} refused" if refused else "")


def _value(value: Any) -> str:
    if isinstance(value, list):
        return listed([_value(v) for v in value]) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    return str(value)


def plan_text(plan: Plan) -> str:
    """The plan as the CLI prints it: a header, then each day's entries, every message under its day."""
    lines = [
        f"Preview of {plan.title} ({plan.id})",
        f"{plan.assumes[0].upper()}{plan.assumes[1:]}.",
        "Nothing was sent: this is what would go out, rendered; the links in it do not work.",
        f"From {plan.starts:%Y-%m-%d %H:%M} to {plan.ends:%Y-%m-%d %H:%M} UTC, in {plan.seconds:.1f} s; "
        f"at the end the {plan.kind} is {label(plan.status, 'process')}.",
        *([f"{plan.stopped_short}."] if plan.stopped_short else []),
    ]
    day = None
    for entry in plan.timeline:
        if entry.at.date() != day:
            day = entry.at.date()
            lines += ["", f"{day:%Y-%m-%d %a}"]
        where = "" if entry.process == plan.id else f" [{entry.process}]"
        if entry.channel is None:
            lines.append(f"  {entry.at:%H:%M}  {entry.subject}{where}")
            continue
        lines.append(f"  {entry.at:%H:%M}  {_heading(entry)}{where}")
        lines += [f"         | {line}".rstrip() for line in entry.body.splitlines()]
    return "\n".join(lines) + "\n"


def _heading(entry: PlanEntry) -> str:
    """A message's first line: what kind, to whom, about what."""
    to = listed(entry.to) if len(entry.to) <= 5 else f"{len(entry.to)} recipients"
    if entry.channel == "email":
        return f"email to {to}: {entry.subject}"
    if entry.channel == "chat":
        return f"chat {'post edited' if entry.action == 'message_updated' else 'post'} to {to}"
    if entry.action == "issue_transitioned":
        return f"tracker: {entry.subject}"
    return f"tracker issue{' for ' + to if entry.to else ''}: {entry.subject}"
