"""What the web service tells its operators: an access line per request, and signoff's own metrics.

- `AccessLog`: one log line per request (method, route, status, time), with
  the process id of a ``/api/processes/{id}…`` or ``/processes/{id}`` path
  bound to every line logged while the request runs.
- `StoreMetrics`: processes by kind and status, overdue processes, and
  deliveries by channel and outcome, read from the store at scrape time
  (one GROUP BY query each), so every replica tells the same numbers and a
  restart loses none.
- `DECISION_SECONDS`: how long an approver's decision (a link's POST, a
  Slack click) took to be answered by the process, timed by `timed_decision`.

docs/operations.md says what each means and what to alert on.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from prometheus_client import CollectorRegistry, GCCollector, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.dialects import postgresql
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.enums import ProcessStatus
from domain.errors import SignoffError, Unavailable
from integrations.schema import outbox, processes
from integrations.store import Store

log = structlog.get_logger("signoff.access")

_PROCESS_PATH = re.compile(r"^/(?:api/)?processes/([^/]+)")
QUIET_PATHS = ("/healthz", "/metrics")
"""Paths a health check or a scraper asks every few seconds: their access lines are debug-level."""


class AccessLog:
    """One line per HTTP request, and the process id of its path on every line logged meanwhile.

    The line names the route's template (``/approve/{token}``), never the
    path itself: an approval link's path is its approver's credential.
    Plain ASGI, like `api.app.SecurityHeaders`, so it costs the click nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        match = _PROCESS_PATH.match(path)
        bound = {"process_id": match.group(1)} if match else {}
        status = 500
        began = time.perf_counter()

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with structlog.contextvars.bound_contextvars(**bound):
            try:
                await self.app(scope, receive, noting_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                log.log(
                    logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                    "request",
                    method=scope["method"],
                    route=route or ("(no route)" if path.startswith("/approve/") else path),
                    status=status,
                    ms=round((time.perf_counter() - began) * 1000, 1),
                )


DECISION_SECONDS = Histogram(
    "signoff_decision_seconds",
    "Time from an approver's decision reaching the web service to the process's answer (the update's round trip).",
    ["channel", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)
"""One histogram for the process: each web app's registry exposes it (`metrics_registry`)."""


@contextlib.contextmanager
def timed_decision(channel: str, process_id: str) -> Iterator[None]:
    """Time a decision applied to `process_id`, and log its outcome with the process id.

    The outcome is ``recorded``, ``refused`` (the process's validator or the
    access rules said no: a `SignoffError`), or ``failed`` (Temporal did not
    answer, or anything unexpected).
    """
    began = time.perf_counter()
    outcome = "failed"
    with structlog.contextvars.bound_contextvars(process_id=process_id):
        try:
            yield
            outcome = "recorded"
        except Unavailable:
            raise
        except SignoffError:
            outcome = "refused"
            raise
        finally:
            seconds = time.perf_counter() - began
            DECISION_SECONDS.labels(channel, outcome).observe(seconds)
            structlog.get_logger("signoff.decisions").info(
                "decision", channel=channel, outcome=outcome, ms=round(seconds * 1000, 1)
            )


DELIVERY_OUTCOMES = {
    "sent": "delivered",
    "posted": "delivered",
    "sending": "pending",
    "posting": "pending",
    "failed": "failed",
}
"""The ledgers' row states (integrations/ledger.py) by outcome; a row without one was recorded by the outbox."""

ACTIVE = (ProcessStatus.RUNNING.value, ProcessStatus.WAITING.value)


class StoreMetrics:
    """signoff's own gauges, read from the store when scraped: one GROUP BY query each."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> Iterable[Metric]:
        return list(self._families())

    def collect(self) -> Iterable[Metric]:
        families = self._families()
        by_status, overdue, deliveries = families
        with self.store.engine.connect() as conn:
            for kind, status, count in conn.execute(
                sa.select(processes.c.kind, processes.c.status, sa.func.count()).group_by(
                    processes.c.kind, processes.c.status
                )
            ):
                by_status.add_metric([kind, status], count)
            for kind, count in conn.execute(
                sa.select(processes.c.kind, sa.func.count())
                .where(processes.c.status.in_(ACTIVE), processes.c.next_deadline < datetime.now(UTC))
                .group_by(processes.c.kind)
            ):
                overdue.add_metric([kind], count)
            state = self._state(conn.dialect.name)
            totals: dict[tuple[str, str], int] = {}
            for channel, raw, count in conn.execute(
                sa.select(outbox.c.channel, state, sa.func.count()).group_by(outbox.c.channel, state)
            ):
                key = (channel, DELIVERY_OUTCOMES.get(raw, raw) if raw else "recorded")
                totals[key] = totals.get(key, 0) + count
            for (channel, outcome), count in sorted(totals.items()):
                deliveries.add_metric([channel, outcome], count)
        return families

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily("signoff_processes", "Processes by kind and status.", labels=["kind", "status"]),
            GaugeMetricFamily(
                "signoff_processes_overdue",
                "Running or waiting processes whose next deadline (an item's due date, a gate's) is past.",
                labels=["kind"],
            ),
            GaugeMetricFamily(
                "signoff_deliveries",
                "Outbox rows by channel and outcome: delivered, pending (under way, or its outcome unknown), "
                "failed (certainly not delivered; retried), recorded (the outbox stood in for the service).",
                labels=["channel", "outcome"],
            ),
        )

    @staticmethod
    def _state(dialect: str) -> sa.ColumnElement[str]:
        """The ``state`` in an outbox row's meta (JSON kept as text)."""
        if dialect == "postgresql":
            state: sa.ColumnElement[str] = sa.cast(outbox.c.meta, postgresql.JSONB)["state"].astext
            return state
        return sa.func.json_extract(outbox.c.meta, "$.state", type_=sa.String)


def metrics_registry(store: Store, base: CollectorRegistry | None = None, decisions: bool = True) -> CollectorRegistry:
    """`base` (else a new registry with this process's CPU, memory and GC) with signoff's own metrics added:
    the store's, and the decisions' latency (a web service's: `decisions`)."""
    if base is None:
        base = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=base)
    base.register(StoreMetrics(store))
    if decisions:
        base.register(DECISION_SECONDS)
    return base
