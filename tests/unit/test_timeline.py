"""`workers.timeline`: a preview's trail and messages put together, and said in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.audit import StoredAuditEvent
from workers.timeline import Plan, Sent, describe, plan_text, timeline

NINE = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def event(
    seq: int, action: str, at: datetime = NINE, step: str | None = "go-no-go", **details: Any
) -> StoredAuditEvent:
    return StoredAuditEvent(
        process_id="launch-x", seq=seq, at=at, actor="signoff", channel="system", action=action, step=step,
        status="running", details=details, prev_hash="", hash="",
    )  # fmt: skip


def sent(to: list[str], subject: str = "Go / no-go", at: datetime = NINE, channel: str = "email") -> Sent:
    return Sent(at=at, process="launch-x", channel=channel, action="message_sent", to=to, subject=subject, body="Hi")


def test_each_message_takes_the_step_of_the_event_that_records_it_and_stands_in_for_it() -> None:
    events = [
        event(1, "gate_opened", round=1, approvers=["vp@example.com"]),
        event(2, "message_sent", at=NINE + timedelta(milliseconds=5), via="email", to=["vp@example.com"]),
        event(3, "batch_sent", at=NINE + timedelta(days=1), step="send", batch=1, outcomes={"a@x.example": "sent"}),
    ]
    messages = [sent(["vp@example.com"]), sent(["a@x.example"], "News", NINE + timedelta(days=1))]

    entries = timeline(events, messages, until=NINE + timedelta(days=2))

    assert [(e.action, e.step) for e in entries] == [
        ("message_sent", "go-no-go"),  # recorded by event 2, which it stands in for
        ("gate_opened", "go-no-go"),
        ("message_sent", "send"),  # a batch's message: recorded by no event of its own, the next one's step
        ("batch_sent", "send"),
    ]
    assert entries[1].subject == "go-no-go opens (round 1): vp@example.com decide"
    assert entries[3].subject == "batch 1 sent: 1 sent"


def test_one_message_to_many_at_once_is_one_entry_and_nothing_after_the_end_shows() -> None:
    batch = [sent([f"c{n}@x.example"], "News", NINE + timedelta(milliseconds=n)) for n in range(3)]

    entries = timeline(
        [], [*batch, sent(["late@x.example"], "Later", NINE + timedelta(days=9))], until=NINE + timedelta(days=1)
    )

    assert [(e.subject, e.to) for e in entries] == [("News", ["c0@x.example", "c1@x.example", "c2@x.example"])]


def test_an_event_the_timeline_has_no_words_for_says_its_action_and_details() -> None:
    assert describe(event(1, "notice_late", item="contracts", token_id="x")) == "notice late (item: contracts)"
    assert describe(event(1, "decision", actor="vp", decision="approve")) == "signoff approved (go-no-go)"


def test_the_text_says_what_it_assumes_and_puts_each_message_under_its_day() -> None:
    plan = Plan(
        id="launch-x", kind="launch", title="Launch: X", assumes="assuming every approver approves when asked",
        status="completed", starts=NINE, ends=NINE, seconds=1.25,
        timeline=timeline([event(1, "completed", step="launch-day")], [sent(["vp@example.com"])], until=NINE),
    )  # fmt: skip

    text = plan_text(plan).splitlines()

    assert text[1] == "Assuming every approver approves when asked."
    assert text[5:] == [
        "2027-01-04 Mon",
        "  09:00  email to vp@example.com: Go / no-go",
        "         | Hi",
        "  09:00  completed",
    ]


def test_a_preview_stopped_short_says_so_under_the_header() -> None:
    plan = Plan(
        id="eol-x", kind="eol", title="End of life: X", assumes="assuming every approver approves when asked",
        status="running", starts=NINE, ends=NINE, seconds=88.0, stopped_short="A preview follows a process up to …",
        timeline=[],
    )  # fmt: skip

    assert plan_text(plan).splitlines()[4:] == ["A preview follows a process up to …."]
