"""The audit store (hash-chained, idempotent per (process, seq)) and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain.audit import AuditEvent, ProcessSummary, StoredAuditEvent
from domain.enums import ProcessStatus
from domain.errors import Unavailable
from integrations.schema import audit_events
from integrations.store import GENESIS, Store, event_hash

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Store:
    return Store.connect(database_url)


def event(
    seq: int,
    process: str = "launch-acme",
    status: ProcessStatus = ProcessStatus.RUNNING,
    kind: str = "launch",
    owner: str = "pm@example.com",
    action: str = "step",
) -> AuditEvent:
    return AuditEvent(
        process=ProcessSummary(id=process, kind=kind, title=f"Launch of {process}", owner=owner, status=status),
        seq=seq,
        at=START + timedelta(minutes=seq),
        actor="system",
        action=action,
        details={"n": seq},
    )


def audit_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()


# ---- the audit trail -------------------------------------------------------------


def test_first_event_chains_to_genesis(store: Store) -> None:
    stored = store.append(event(1))
    assert stored.prev_hash == "0" * 64 == GENESIS
    assert len(stored.hash) == 64
    assert stored.hash != GENESIS


def test_each_event_chains_to_the_one_before(store: Store) -> None:
    first, second, third = (store.append(event(seq)) for seq in (1, 2, 3))
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_chain_can_be_checked_from_the_stored_rows(store: Store) -> None:
    for seq in (1, 2, 3):
        store.append(event(seq))
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_events).order_by(audit_events.c.seq)).mappings().all()
    prev_hash = GENESIS
    for row in rows:
        at = row["at"].replace(tzinfo=UTC)  # SQLite gives back naive UTC
        assert row["prev_hash"] == prev_hash
        assert event_hash(prev_hash, {**row, "at": at.isoformat()}) == row["hash"]
        prev_hash = row["hash"]


def test_a_batch_is_chained_in_order_as_one_by_one_appends_would_be(store: Store, tmp_path: Path) -> None:
    store.append_all([event(1), event(2), event(3)])
    one_by_one = Store.connect(f"sqlite:///{tmp_path}/other.db")
    for seq in (1, 2, 3):
        one_by_one.append(event(seq))

    assert [e.hash for e in store.trail("launch-acme")] == [e.hash for e in one_by_one.trail("launch-acme")]


def test_a_batch_retried_after_a_partial_write_keeps_each_event_once(store: Store) -> None:
    store.append_all([event(1), event(2)])

    store.append_all([event(1), event(2), event(3)])

    assert [e.seq for e in store.trail("launch-acme")] == [1, 2, 3]
    assert audit_rows(store) == 3


def test_a_batch_after_a_gap_is_refused_whole(store: Store) -> None:
    store.append(event(1))

    with pytest.raises(Unavailable, match="audit event 2 of launch-acme not stored yet"):
        store.append_all([event(3), event(4)])
    assert audit_rows(store) == 1


def test_appended_event_keeps_its_facts(store: Store) -> None:
    stored = store.append(event(1, action="started"))
    assert (stored.process_id, stored.seq, stored.action, stored.status) == ("launch-acme", 1, "started", "running")
    assert stored.details == {"n": 1}
    assert stored.at == START + timedelta(minutes=1)


def test_appending_the_same_seq_twice_returns_the_first_copy(store: Store) -> None:
    first = store.append(event(1, action="started"))
    again = store.append(event(1, action="something else"))
    assert again == first
    assert again.action == "started"
    assert audit_rows(store) == 1


def test_losing_a_race_for_the_same_seq_returns_the_winners_copy(store: Store) -> None:
    class Racing(Store):
        """A store that misses the winner's row once, as a concurrent writer would."""

        missed = False

        def _event(self, conn: sa.Connection, process_id: str, seq: int) -> StoredAuditEvent | None:
            if not self.missed:
                self.missed = True
                return None
            return super()._event(conn, process_id, seq)

    winner = store.append(event(1, action="started"))
    assert Racing(store.engine).append(event(1, action="late")) == winner
    assert audit_rows(store) == 1


def test_appending_past_a_gap_is_unavailable(store: Store) -> None:
    store.append(event(1))
    with pytest.raises(Unavailable):
        store.append(event(3))
    assert audit_rows(store) == 1


def test_the_gap_filled_the_later_event_appends(store: Store) -> None:
    store.append(event(1))
    with pytest.raises(Unavailable):
        store.append(event(3))
    store.append(event(2))
    assert store.append(event(3)).prev_hash == store.event("launch-acme", 2).hash  # type: ignore[union-attr]


def test_same_seq_in_two_processes_are_separate_chains(store: Store) -> None:
    store.append(event(1, process="launch-a"))
    other = store.append(event(1, process="launch-b"))
    assert other.prev_hash == GENESIS
    assert audit_rows(store) == 2


def test_trail_is_in_seq_order(store: Store) -> None:
    for seq in (1, 2, 3):
        store.append(event(seq))
    store.append(event(1, process="launch-other"))
    assert [e.seq for e in store.trail("launch-acme")] == [1, 2, 3]


def test_trail_of_unknown_process_is_empty(store: Store) -> None:
    assert list(store.trail("nope")) == []


def test_trail_events_equal_what_append_returned(store: Store) -> None:
    appended = [store.append(event(seq)) for seq in (1, 2)]
    assert list(store.trail("launch-acme")) == appended


# ---- search across processes -----------------------------------------------------


def pages(store: Store, **filters: object) -> list[list[tuple[str, int]]]:
    """Every page of a search, two events a page, as (process, seq)."""
    found, after = [], None
    while True:
        page, after = store.search(**filters, after=after, limit=2)  # type: ignore[arg-type]
        found.append([(e.process_id, e.seq) for e in page])
        if after is None:
            return found


def test_search_pages_by_time_then_write_order(store: Store) -> None:
    for seq in (1, 2, 3):  # launch-b's events happen a minute before launch-a's of the same seq …
        store.append(event(seq, process="launch-a"))
    for seq in (1, 2, 3):
        store.append(
            event(seq, process="launch-b").model_copy(update={"at": START + timedelta(minutes=seq, seconds=-30)})
        )
    store.append(event(4, process="launch-a").model_copy(update={"at": START + timedelta(minutes=3)}))  # … a tie

    assert pages(store) == [
        [("launch-b", 1), ("launch-a", 1)],
        [("launch-b", 2), ("launch-a", 2)],
        [("launch-b", 3), ("launch-a", 3)],
        [("launch-a", 4)],
    ]


def test_search_filters_and_pages_within_a_window(store: Store) -> None:
    for seq in range(1, 8):
        store.append(event(seq, action="decision" if seq % 2 else "reminder"))
    store.append(event(1, process="launch-other", action="decision"))
    window = {"start": START + timedelta(minutes=2), "end": START + timedelta(minutes=7)}

    assert pages(store, process="launch-acme", **window) == [[("launch-acme", 2), ("launch-acme", 3)],
                                                             [("launch-acme", 4), ("launch-acme", 5)],
                                                             [("launch-acme", 6)]]  # fmt: skip
    assert pages(store, action="decision", **window) == [[("launch-acme", 3), ("launch-acme", 5)]]


def test_search_window_is_an_instant_whatever_its_zone(store: Store) -> None:
    for seq in (1, 2, 3):
        store.append(event(seq))
    paris = timezone(timedelta(hours=1))

    found, _ = store.search(start=(START + timedelta(minutes=2)).astimezone(paris))

    assert [e.seq for e in found] == [2, 3]


# ---- the process list ------------------------------------------------------------


def test_process_list_follows_the_latest_status(store: Store) -> None:
    store.append(event(1, status=ProcessStatus.RUNNING))
    store.append(event(2, status=ProcessStatus.WAITING))
    [row] = store.processes()
    assert row["id"] == "launch-acme"
    assert row["status"] == "waiting"
    assert row["started_at"] == START + timedelta(minutes=1)
    assert row["updated_at"] == START + timedelta(minutes=2)


def test_repeated_event_does_not_move_the_process_list(store: Store) -> None:
    store.append(event(1, status=ProcessStatus.RUNNING))
    store.append(event(2, status=ProcessStatus.COMPLETED))
    store.append(event(1, status=ProcessStatus.RUNNING))
    assert store.processes()[0]["status"] == "completed"


def test_process_list_filters_by_kind_status_and_owner(store: Store) -> None:
    store.append(event(1, process="launch-a", kind="launch", owner="ann@example.com"))
    store.append(event(1, process="eol-b", kind="end-of-life", owner="bob@example.com"))
    store.append(event(1, process="launch-c", kind="launch", owner="bob@example.com"))
    store.append(event(2, process="launch-c", kind="launch", owner="bob@example.com", status=ProcessStatus.COMPLETED))

    def ids(**filters: str) -> set[str]:
        return {row["id"] for row in store.processes(**filters)}

    assert ids() == {"launch-a", "eol-b", "launch-c"}
    assert ids(kind="launch") == {"launch-a", "launch-c"}
    assert ids(status="completed") == {"launch-c"}
    assert ids(owner="bob@example.com") == {"eol-b", "launch-c"}
    assert ids(kind="launch", status="running", owner="ann@example.com") == {"launch-a"}
    assert ids(kind="post-mortem") == set()


def test_process_list_is_newest_first(store: Store) -> None:
    store.append(event(1, process="older"))
    later = event(1, process="newer").model_copy(update={"at": START + timedelta(days=1)})
    store.append(later)
    assert [row["id"] for row in store.processes()] == ["newer", "older"]


def test_one_process_row(store: Store) -> None:
    store.append(event(1))
    row = store.process("launch-acme")
    assert row is not None
    assert row["owner"] == "pm@example.com"
    assert store.process("nope") is None


def test_one_process_row_has_utc_times_like_the_list(store: Store) -> None:
    store.append(event(1))
    row = store.process("launch-acme")
    assert row is not None
    assert row["started_at"] == store.processes()[0]["started_at"] == START + timedelta(minutes=1)


# ---- the outbox --------------------------------------------------------------------


def test_record_says_it_is_new(store: Store) -> None:
    entry, created = store.record("k1", "launch-acme", "email", ["a@example.com"], "Hi", "Body")
    assert created is True
    assert (entry.key, entry.process, entry.channel, entry.to) == ("k1", "launch-acme", "email", ["a@example.com"])
    assert (entry.subject, entry.body) == ("Hi", "Body")


def test_recording_one_key_twice_keeps_the_first(store: Store) -> None:
    first, _ = store.record("k1", "launch-acme", "email", ["a@example.com"], "Hi", "Body")
    again, created = store.record("k1", "launch-acme", "email", ["b@example.com"], "Other", "Other body")
    assert created is False
    assert again.id == first.id
    assert again.subject == "Hi"
    assert len(store.outbox()) == 1


def test_outbox_filters_by_process_oldest_first(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.record(key, "launch-acme", "email", [], key, "")
        store.record(f"other-{key}", "launch-other", "chat", [], key, "")
    assert [e.key for e in store.outbox("launch-acme")] == ["a", "b", "c"]
    assert {e.process for e in store.outbox("launch-other")} == {"launch-other"}
    assert len(store.outbox()) == 6


def test_outbox_limit_keeps_the_newest_oldest_first(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.record(key, "launch-acme", "email", [], key, "")
    assert [e.key for e in store.outbox(limit=2)] == ["b", "c"]


def test_update_meta_replaces_the_meta(store: Store) -> None:
    store.record("k1", "launch-acme", "tracker", [], "Issue", "", {"a": 1})
    store.update_meta("k1", {"issue_key": "LAUNCH-1"})
    assert store.recorded("k1").meta == {"issue_key": "LAUNCH-1"}  # type: ignore[union-attr]


def test_recorded_of_unknown_key_is_none(store: Store) -> None:
    assert store.recorded("nope") is None


def test_outbox_times_are_utc(store: Store) -> None:
    store.record("k1", "launch-acme", "email", [], "Hi", "")
    assert store.outbox()[0].at.utcoffset() == timedelta(0)
