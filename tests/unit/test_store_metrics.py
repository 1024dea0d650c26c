"""signoff's own gauges, read from the store at scrape time, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from api.observability import StoreMetrics
from integrations.schema import outbox, processes
from integrations.store import Store


def samples(store: Store) -> dict[str, dict[tuple[str, ...], float]]:
    return {
        family.name: {tuple(s.labels.values()): s.value for s in family.samples}
        for family in StoreMetrics(store).collect()
    }


def test_an_empty_store_has_no_samples(database_url: str) -> None:
    assert samples(Store.connect(database_url)) == {
        "signoff_processes": {},
        "signoff_processes_overdue": {},
        "signoff_deliveries": {},
    }


def test_processes_overdue_items_and_deliveries_are_counted(database_url: str) -> None:
    store = Store.connect(database_url)
    now = datetime.now(UTC)
    rows = [
        ("launch-a", "launch", "running", now - timedelta(hours=1)),  # overdue
        ("launch-b", "launch", "waiting", now - timedelta(days=2)),  # overdue
        ("launch-c", "launch", "running", now + timedelta(days=1)),
        ("launch-d", "launch", "completed", now - timedelta(days=9)),  # over: never overdue
        ("comms-e", "comms", "waiting", None),
    ]
    sent = [
        ("email", {"state": "sent"}),
        ("email", {"state": "sent"}),
        ("email", {"state": "failed", "error": "554"}),
        ("email", {"state": "sending"}),
        ("chat", {"via": "slack", "state": "posted"}),
        ("chat", {"via": "teams", "state": "posting"}),
        ("chat", {}),  # the outbox stood in
        ("tracker", {"issue_key": "OPS-1", "url": "https://jira.example/OPS-1"}),
    ]
    with store.engine.begin() as conn:
        for pid, kind, status, deadline in rows:
            conn.execute(
                processes.insert().values(
                    id=pid, kind=kind, title=pid, owner="pm@example.com", status=status,
                    started_at=now, updated_at=now, next_deadline=deadline,
                )
            )  # fmt: skip
        for n, (channel, meta) in enumerate(sent):
            conn.execute(
                outbox.insert().values(
                    key=f"k{n}", process_id="launch-a", channel=channel, to="[]", subject="", body="", at=now,
                    meta=json.dumps(meta),
                )
            )  # fmt: skip

    assert samples(store) == {
        "signoff_processes": {
            ("launch", "running"): 2,
            ("launch", "waiting"): 1,
            ("launch", "completed"): 1,
            ("comms", "waiting"): 1,
        },
        "signoff_processes_overdue": {("launch",): 2},
        "signoff_deliveries": {
            ("chat", "delivered"): 1,
            ("chat", "pending"): 1,
            ("chat", "recorded"): 1,
            ("email", "delivered"): 2,
            ("email", "failed"): 1,
            ("email", "pending"): 1,
            ("tracker", "recorded"): 1,
        },
    }
