"""How the audit store answers at a million events: searches, deep pages, one long export, verify.

    .venv/bin/python -m bench.audit_at_scale [--events 1000000] [--url sqlite:///…|postgresql+psycopg://…]

It fills a fresh store with hash-chained events straight through SQL (the
application writes one event per activity; a million of those would take
hours and measure Temporal, not the store), then times the queries the API
and the CLI make, each against the same query on a store of a thousand
events — the ratio is what holds on a noisy machine, not the milliseconds.
Results and method: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from integrations.schema import audit_events, processes
from integrations.store import GENESIS, Position, Store, event_hash

START = datetime(2026, 1, 1, tzinfo=UTC)
ACTIONS = ["message_sent", "reminder", "decision", "issue_created", "item_done"]


def fill(store: Store, events: int, per_process: int, long_process: int) -> None:
    """`events` events: one process of `long_process` events, the rest in processes of `per_process`."""
    batch: list[dict[str, Any]] = []
    plan = [("launch-long", long_process)] + [
        (f"launch-{n:06d}", per_process) for n in range((events - long_process) // per_process)
    ]
    with store.engine.begin() as conn:
        for number, (process_id, count) in enumerate(plan):
            prev = GENESIS
            conn.execute(
                processes.insert().values(
                    id=process_id, kind="launch", title=process_id, owner=f"pm{number % 50}@example.com",
                    status="running", started_at=START, updated_at=START,
                )
            )  # fmt: skip
            for seq in range(1, count + 1):
                at = START + timedelta(minutes=number) + timedelta(seconds=seq)
                row = {
                    "process_id": process_id, "seq": seq, "at": at.isoformat(),
                    "actor": f"person{(number + seq) % 200}@example.com", "channel": "system",
                    "action": ACTIONS[seq % len(ACTIONS)], "step": "checklist", "status": "running",
                    "details": json.dumps({"n": seq}, sort_keys=True, separators=(",", ":")),
                }  # fmt: skip
                digest = event_hash(prev, row)
                batch.append(row | {"at": at, "prev_hash": prev, "hash": digest})
                prev = digest
                if len(batch) >= 20_000:
                    conn.execute(audit_events.insert(), batch)
                    batch.clear()
        if batch:
            conn.execute(audit_events.insert(), batch)


def timed(run: Callable[[], object], repeat: int = 5) -> float:
    """The median wall time of `run`, in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(store: Store, long_process: int) -> dict[str, float]:
    """The queries GET /api/audit, the trail export and verify make."""
    near_end = _position(store, _max_id(store) - 150)
    late = START + timedelta(minutes=_processes(store) - 5)
    early = (START + timedelta(minutes=10), START + timedelta(minutes=12))
    export_peak = _peak_kib(lambda: sum(1 for _ in store.trail("launch-long")))
    return {
        "first page, no filter": timed(lambda: store.search(limit=100)),
        "a page near the end (keyset)": timed(lambda: store.search(limit=100, after=near_end)),
        "by actor, first page": timed(lambda: store.search(actor="person7@example.com", limit=100)),
        "by kind, first page": timed(lambda: store.search(action="decision", limit=100)),
        "by process": timed(lambda: store.search(process="launch-000003", limit=100)),
        "by time window (last minutes)": timed(lambda: store.search(start=late, limit=100)),
        "by time window (two early minutes)": timed(lambda: store.search(start=early[0], end=early[1], limit=100)),
        "by actor in the last minutes": timed(lambda: store.search(actor="person7@example.com", start=late)),
        "by kind in the last minutes": timed(lambda: store.search(action="decision", start=late, limit=100)),
        f"export one process of {long_process} events (ms)": timed(
            lambda: sum(1 for _ in store.trail("launch-long")), repeat=1
        ),
        f"export one process of {long_process} events (peak KiB)": export_peak,
    }


def _max_id(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(audit_events.c.id))).scalar_one())


def _position(store: Store, row_id: int) -> Position:
    with store.engine.connect() as conn:
        at = conn.execute(sa.select(audit_events.c.at).where(audit_events.c.id == row_id)).scalar_one()
    return Position(at=at if at.tzinfo else at.replace(tzinfo=UTC), id=row_id)


def _processes(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(processes)).scalar_one())


def _peak_kib(run: Callable[[], object]) -> float:
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", help="a database to fill (its audit tables are emptied); default a temp SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        results = {}
        for label, events, long_process in (("1k", 1_000, 200), ("full", args.events, 100_000)):
            url = args.url or f"sqlite:///{Path(scratch) / f'{label}.db'}"
            store = Store.connect(url)
            with store.engine.begin() as conn:  # an empty store (on PostgreSQL without the dead rows of a DELETE)
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
                    conn.execute(sa.text("TRUNCATE audit_events, processes"))
                    conn.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
                else:
                    conn.execute(audit_events.delete())
                    conn.execute(processes.delete())
            started = time.perf_counter()
            fill(store, events, per_process=100, long_process=long_process)
            filled = time.perf_counter() - started
            with store.engine.connect() as conn:  # the statistics a live database keeps (autovacuum, optimize)
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
            results[label] = measure(store, long_process) | {"fill (s)": filled}
            started = time.perf_counter()
            problems = store.verify()
            results[label]["verify every chain (s)"] = time.perf_counter() - started
            assert not problems, problems[:3]
            store.engine.dispose()
    small, full = results["1k"], results["full"]
    print(f"{'query':58} {'1k events':>12} {args.events:>12,} {'ratio':>7}")
    for name in full:
        if name.startswith("export") or name.startswith("fill") or name.startswith("verify"):
            print(f"{name:58} {'':>12} {full[name]:>12.1f}")
            continue
        print(f"{name + ' (ms)':58} {small[name]:>12.2f} {full[name]:>12.2f} {full[name] / small[name]:>7.1f}")


if __name__ == "__main__":
    main()
