"""The process list's overdue count and filter, its next deadline, and the copies someone's work is read from:
kept from the copy of each page its batches carry (migration 0008), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from domain.audit import AuditEvent, ProcessSummary, ViewCopy
from domain.enums import ProcessStatus
from domain.views import GateState, ItemState, PlannedMoment, ProcessView
from integrations.ports import ApprovalAsk
from integrations.schema import migrate, processes
from integrations.store import Store
from tests.unit.test_store import START

TODAY = date(2026, 12, 1)
LAUNCH_AT = datetime(2026, 12, 15, 9, tzinfo=UTC)
EXPIRES_AT = LAUNCH_AT + timedelta(days=7)


@pytest.fixture
def store(database_url: str) -> Store:
    return Store.connect(database_url)


def item(key: str, due: date, owner: str = "docs@example.com", status: str = "open") -> ItemState:
    return ItemState.model_validate(
        {"key": key, "title": key.title(), "role": "docs", "owner": owner, "due": due, "status": status}
    )


def page(process: str, items: list[ItemState], gate_open: bool = False, **changes: Any) -> dict[str, Any]:
    """A launch's view as its batches send it (JSON, less what is worked out on reading)."""
    gate = GateState(
        key="go-no-go", title="Go / no-go", approvers=["vp@example.com", "an_approver@example.com"], policy="all",
        required=2, **({"status": "open", "opened_at": START, "expires_at": EXPIRES_AT} if gate_open else {}),
    )  # fmt: skip
    view = ProcessView(
        id=process, kind="launch", title=f"Launch of {process}", status="running", owner="pm@example.com",
        params={"launch_date": "2026-12-15"}, steps=[], items=items, gates=[gate],
        plan=[PlannedMoment(at=LAUNCH_AT, what="launch day", step="launch-day")],
    )  # fmt: skip
    return view.model_dump(mode="json", exclude={"pending", "live", "as_of", "unavailable"}) | changes


def batch(
    store: Store,
    process: str,
    fields: dict[str, Any],
    seq: int = 1,
    status: ProcessStatus = ProcessStatus.RUNNING,
    deadline: datetime | None = None,
) -> None:
    """One event of `process` (its line: `status`, `deadline`) with the copy `fields`."""
    summary = ProcessSummary(
        id=process, kind="launch", title=f"Launch of {process}", owner="pm@example.com", status=status,
        next_deadline=deadline,
    )  # fmt: skip
    event = AuditEvent(process=summary, seq=seq, at=START + timedelta(minutes=seq), actor="system", action="step")
    since = seq - 1 if seq > 1 else 0
    store.append_all([event], ViewCopy(at=START + timedelta(minutes=seq), since=since, fields=fields))


def test_the_list_counts_each_processs_overdue_items_and_filters_on_them(store: Store) -> None:
    late = [item("docs", TODAY - timedelta(days=3)), item("faq", TODAY - timedelta(days=1)), item("ads", TODAY)]
    batch(store, "launch-late", page("launch-late", [*late, item("legal", TODAY - timedelta(days=9), status="done")]))
    batch(store, "launch-on-time", page("launch-on-time", [item("docs", TODAY)]))
    batch(store, "launch-none", page("launch-none", []))

    rows = {row["id"]: row for row in store.processes(today=TODAY)}
    overdue = store.processes(overdue=True, today=TODAY)
    a_week_on = {row["id"]: row["overdue"] for row in store.processes(today=TODAY + timedelta(days=7))}

    counted = {pid: row["overdue"] for pid, row in rows.items()}
    assert counted == {"launch-late": 2, "launch-on-time": 0, "launch-none": 0}
    assert [row["id"] for row in overdue] == ["launch-late"]
    assert a_week_on == {"launch-late": 3, "launch-on-time": 1, "launch-none": 0}
    assert not {"open_due", "earliest_open_due"} & set(rows["launch-late"])


def test_an_item_done_leaves_the_count_with_its_batch(store: Store) -> None:
    items = [item("docs", TODAY - timedelta(days=3)), item("faq", TODAY - timedelta(days=1))]
    batch(store, "launch-acme", page("launch-acme", items))

    docs_done = item("docs", TODAY - timedelta(days=3), status="done").model_dump(mode="json")
    store.append_all(
        [AuditEvent(process=ProcessSummary(id="launch-acme", kind="launch", title="t", owner="pm@example.com",
                                           status=ProcessStatus.RUNNING),
                    seq=2, at=START + timedelta(minutes=2), actor="docs@example.com", action="item_done")],
        ViewCopy(at=START + timedelta(minutes=2), since=1, fields={}, entries={"items": [docs_done]}),
    )  # fmt: skip

    [row] = store.processes(today=TODAY)
    assert row["overdue"] == 1


def test_a_process_that_ended_has_nothing_overdue(store: Store) -> None:
    late = page("launch-cancelled", [item("docs", TODAY - timedelta(days=3))])
    batch(store, "launch-cancelled", late)
    batch(store, "launch-cancelled", late, seq=2, status=ProcessStatus.CANCELLED)

    [row] = store.processes(today=TODAY)

    assert row["overdue"] == 0
    assert store.processes(overdue=True, today=TODAY) == []


def test_the_next_deadline_is_launch_day_not_the_approval_links_expiry(store: Store) -> None:
    batch(store, "launch-acme", page("launch-acme", [], gate_open=True), deadline=EXPIRES_AT)
    batch(store, "launch-early", page("launch-early", [item("docs", TODAY)], gate_open=True), deadline=START)

    rows = {row["id"]: row["next_deadline"] for row in store.processes(today=TODAY)}

    assert rows == {"launch-acme": LAUNCH_AT, "launch-early": START}


def test_the_copies_that_name_someone_are_those_of_running_processes_naming_them(store: Store) -> None:
    batch(store, "launch-docs", page("launch-docs", [item("docs", TODAY)]))
    batch(store, "launch-approver", page("launch-approver", [], gate_open=True))
    batch(store, "launch-other", page("launch-other", [item("faq", TODAY, owner="faq@example.com")]))
    ended = page("launch-ended", [item("docs", TODAY)])
    batch(store, "launch-ended", ended)
    batch(store, "launch-ended", ended, seq=2, status=ProcessStatus.COMPLETED)

    docs = [view.id for view in store.running_views_naming("docs@example.com")]
    approver = [view.id for view in store.running_views_naming("an_approver@example.com")]  # on every gate
    a_part = store.running_views_naming("example.com")
    wildcards = store.running_views_naming("anXapprover@example.com") + store.running_views_naming("%@example.com")

    assert docs == ["launch-docs"]
    assert approver == ["launch-approver", "launch-docs", "launch-other"]  # oldest first, then by id
    assert a_part == [] and wildcards == []  # a whole value, and LIKE's wildcards are plain characters
    assert all(not view.live for view in store.running_views_naming("vp@example.com"))


def test_approval_links_come_from_the_meta_of_approval_requests_the_latest_winning(store: Store) -> None:
    vp, carol = "vp@example.com", "carol@example.com"

    def ask(key: str, to: str, url: str, round_: int = 1, on_behalf_of: str | None = None, pid: str = "p") -> None:
        meta = ApprovalAsk(gate="go", round=round_, addressee=to, url=url, on_behalf_of=on_behalf_of).meta()
        store.record(key, pid, "email", [to], "Go?", "see /approve/in-the-body", meta)

    ask("p:approval:go:1:vp@example.com:0", vp, "https://s/approve/first")
    store.record("p:email:news", "p", "email", [vp], "News", "click /approve/forged")  # no meta: not a request
    ask("p:approval:go:1:vp@example.com:1", vp, "https://s/approve/reminder")
    ask("p:approval:go:2:vp@example.com:edit-1", vp, "https://s/approve/after-edit", round_=2)
    ask("p:approval:go:1:carol@example.com>vp@example.com:handed-1", carol, "https://s/approve/for-vp", on_behalf_of=vp)
    ask("q:approval:go:1:vp@example.com:0", vp, "https://s/approve/elsewhere", pid="q")

    assert store.approval_links(["p"], vp) == {
        ("p", "go", 1, ""): "https://s/approve/reminder",
        ("p", "go", 2, ""): "https://s/approve/after-edit",
    }
    assert store.approval_links(["p"], carol) == {("p", "go", 1, vp): "https://s/approve/for-vp"}
    assert store.approval_links([], vp) == {}


def test_migration_0008_fills_in_the_running_processes_from_their_copies(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    migrate(engine, "0007")
    columns = "id, kind, title, owner, status, started_at, updated_at, view_fields"
    rows = [
        ("launch-running", "running", page("launch-running", [item("b", TODAY), item("a", TODAY - timedelta(1))])),
        ("launch-ended", "completed", page("launch-ended", [item("a", TODAY - timedelta(days=1))])),
        ("launch-broken", "running", {"items": "not a list of items"}),
    ]
    with engine.begin() as conn:
        for pid, status, fields in rows:
            conn.execute(
                sa.text(f"INSERT INTO processes ({columns}) VALUES (:id, 'launch', 't', 'o', :s, :at, :at, :v)"),
                {"id": pid, "s": status, "at": START, "v": json.dumps(fields)},
            )

    migrate(engine)

    with engine.connect() as conn:
        query = sa.select(processes.c.id, processes.c.earliest_open_due, processes.c.open_due)
        filled = {pid: (earliest, due) for pid, earliest, due in conn.execute(query)}
    engine.dispose()
    assert filled == {
        "launch-running": (TODAY - timedelta(days=1), f"{TODAY - timedelta(days=1)},{TODAY}"),
        "launch-ended": (None, None),
        "launch-broken": (None, None),
    }


def test_the_calendars_copies_are_the_running_processes_and_those_finished_since(store: Store) -> None:
    batch(store, "launch-running", page("launch-running", []))
    ended = page("launch-ended", [])
    batch(store, "launch-ended", ended)
    batch(store, "launch-ended", ended, seq=2, status=ProcessStatus.CANCELLED)  # its last copy, at START + 2 min

    def ids(since: datetime) -> list[str]:
        return [view.id for view in store.process_views(active_since=since)]

    assert sorted(ids(START)) == ["launch-ended", "launch-running"]
    assert ids(START + timedelta(days=1)) == ["launch-running"]  # ended before the month began
    assert len(store.process_views()) == 2
