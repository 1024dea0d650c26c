"""Metrics and traces of a signoff process: the Temporal SDK's, signoff's own, and OpenTelemetry's.

`Telemetry.start` is the first thing ``signoff worker``, ``signoff web`` and
``signoff dev`` do: logging (workers/logs.py), then a Temporal runtime whose
metrics go into a `MetricBuffer` that `TemporalMetrics` turns into
Prometheus metrics, served with the process's own and signoff's
(api/observability.py) on one ``/metrics``: the web service's, and the
worker's own endpoint (`worker_endpoints`, on ``SIGNOFF_METRICS_PORT``).
With an OTLP endpoint configured, the Temporal client and worker trace
through `temporalio.contrib.opentelemetry.TracingInterceptor` and the web
app through the FastAPI instrumentation (the ``signoff[otel]`` extra).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client import generate_latest as render_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.samples import Sample
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    LogForwardingConfig,
    LoggingConfig,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from config.settings import OtelSettings, Settings
from domain.errors import BadInput
from integrations.store import Store
from workers.logs import LogFormat, configure_logging

log = structlog.get_logger()

BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
"""Histogram buckets of the SDK's latencies, in seconds (a poll's long wait to a workflow's whole life)."""

BUFFER_SIZE = 100_000
"""Metric updates the SDK may buffer between two drains; a busy worker makes a few thousand a second."""

DRAIN_EVERY = 1.0
"""Seconds between two drains of the buffer when nobody scrapes."""

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0

    def observe(self, value: float) -> None:
        index = next((i for i, bound in enumerate(BUCKETS) if value <= bound), len(BUCKETS))
        self.counts[index] += 1
        self.total += value

    def samples(self, name: str, labels: dict[str, str]) -> list[Sample]:
        """The histogram's Prometheus samples: cumulative buckets, count and sum."""
        out, running = [], 0
        for bound, count in zip([*BUCKETS, math.inf], self.counts, strict=True):
            running += count
            le = "+Inf" if bound == math.inf else str(bound)
            out.append(Sample(f"{name}_bucket", {**labels, "le": le}, float(running)))
        return [*out, Sample(f"{name}_count", labels, float(running)), Sample(f"{name}_sum", labels, self.total)]


class TemporalMetrics:
    """The Temporal SDK's metrics (``temporal_…``), kept from its `MetricBuffer` and collected by Prometheus.

    The SDK hands over updates (a counter's increments, a gauge's values, a
    histogram's observations, durations in seconds); this adds them up, with
    their attributes as labels, and a scrape reads the totals. A thread drains
    the buffer every second so it never fills while nobody scrapes.
    """

    def __init__(self) -> None:
        self.buffer = MetricBuffer(BUFFER_SIZE, MetricBufferDurationFormat.SECONDS)
        self._lock = threading.Lock()
        self._help: dict[str, tuple[int, str]] = {}
        self._values: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, _Histogram]] = {}
        self._stopped = threading.Event()

    def runtime(self) -> Runtime:
        """A Temporal runtime whose metrics come here and whose Core logs go through Python's logging."""
        return Runtime(
            telemetry=TelemetryConfig(
                metrics=self.buffer,
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                    forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
                ),
            )
        )

    def drain(self) -> None:
        """Add what the SDK recorded since the last drain (under the lock: a scrape and the drain thread both
        drain, and updates applied out of order would set a gauge back)."""
        with self._lock:
            try:
                updates = self.buffer.retrieve_updates()
            except RuntimeError:  # no runtime made with this buffer yet
                return
            for update in updates:
                metric = update.metric
                labels = tuple(sorted((str(k), str(v)) for k, v in update.attributes.items()))
                self._help.setdefault(metric.name, (metric.kind, metric.description or metric.name))
                if metric.kind == BUFFERED_METRIC_KIND_COUNTER:
                    series = self._values.setdefault(metric.name, {})
                    series[labels] = series.get(labels, 0.0) + update.value
                elif metric.kind == BUFFERED_METRIC_KIND_GAUGE:
                    self._values.setdefault(metric.name, {})[labels] = float(update.value)
                else:
                    self._histograms.setdefault(metric.name, {}).setdefault(labels, _Histogram()).observe(update.value)

    def collect(self) -> Iterable[Metric]:
        self.drain()
        with self._lock:
            return [self._family(name, kind, text) for name, (kind, text) in sorted(self._help.items())]

    def _family(self, name: str, kind: int, text: str) -> Metric:
        family: Metric
        if kind in (BUFFERED_METRIC_KIND_COUNTER, BUFFERED_METRIC_KIND_GAUGE):
            counter = kind == BUFFERED_METRIC_KIND_COUNTER
            family = CounterMetricFamily(name, text) if counter else GaugeMetricFamily(name, text)
            sample = f"{family.name}_total" if counter else name
            family.samples = [Sample(sample, dict(labels), value) for labels, value in self._values[name].items()]
        else:
            family = HistogramMetricFamily(name, text)
            for labels, histogram in self._histograms[name].items():
                family.samples.extend(histogram.samples(name, dict(labels)))
        return family

    def drain_in_background(self) -> None:
        """Drain the buffer every `DRAIN_EVERY` seconds on a daemon thread, until `stop`."""
        threading.Thread(target=self._drain_until_stopped, name="temporal-metrics", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _drain_until_stopped(self) -> None:
        while not self._stopped.wait(DRAIN_EVERY):
            self.drain()


class Tracing:
    """OpenTelemetry tracing of the Temporal client and worker and of the web app, to an OTLP/HTTP collector."""

    def __init__(self, provider: Any) -> None:
        """`provider`: an OpenTelemetry SDK ``TracerProvider`` (with its exporter already added)."""
        self.provider = provider

    @classmethod
    def from_settings(cls, settings: OtelSettings, role: str) -> Tracing | None:
        """Tracing to the configured endpoint, or None when none is configured.

        Raises:
            BadInput: an endpoint is configured but the OpenTelemetry packages are not installed.
        """
        endpoint = settings.endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if not endpoint:
            return None
        try:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as missing:
            raise BadInput(
                f"tracing is configured (SIGNOFF_OTEL_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) but {missing.name} "
                "is not installed: pip install 'signoff[otel]', or unset the endpoint"
            ) from None
        name = os.environ.get("OTEL_SERVICE_NAME", f"signoff-{role}")
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS) itself; signoff's setting is a base URL too.
        traces = f"{settings.endpoint.rstrip('/')}/v1/traces" if settings.endpoint else None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces)))
        trace.set_tracer_provider(provider)
        return cls(provider)

    def client(self, client: Client) -> Client:
        """`client` with the SDK's tracing interceptor (its workers take it from the client)."""
        from temporalio.contrib.opentelemetry import TracingInterceptor

        config = client.config()
        config["interceptors"] = [*config["interceptors"], TracingInterceptor(self.provider.get_tracer("signoff"))]
        return Client(**config)

    def instrument(self, app: Any) -> None:
        """Trace every request of the FastAPI `app` but its health checks and scrapes."""
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.provider, excluded_urls="/healthz,/metrics")

    def shutdown(self) -> None:
        """Send the spans still buffered."""
        self.provider.shutdown()


@dataclass
class Telemetry:
    """A process's metrics registry (its own, the SDK's) and tracing, if configured."""

    registry: CollectorRegistry
    sdk: TemporalMetrics
    tracing: Tracing | None = None

    @classmethod
    def start(cls, settings: Settings, role: str, log_format: LogFormat) -> Telemetry:
        """Configure logging, make the Temporal runtime every client of this process uses, and tracing.

        Args:
            settings: the ``log``, ``otel`` sections.
            role: ``worker``, ``web`` or ``dev`` (the service name traces carry).
            log_format: the log format unless ``SIGNOFF_LOG_FORMAT`` names one.

        Raises:
            BadInput: tracing is configured but its packages are not installed.
        """
        configure_logging(settings.log, log_format)
        sdk = TemporalMetrics()
        Runtime.set_default(sdk.runtime(), error_if_already_set=False)
        sdk.drain_in_background()
        registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=registry)
        registry.register(sdk)
        return cls(registry, sdk, Tracing.from_settings(settings.otel, role))

    def client(self, client: Client) -> Client:
        """`client`, traced if tracing is on."""
        return self.tracing.client(client) if self.tracing else client

    def instrument(self, app: Any) -> None:
        """Trace the web `app`, if tracing is on."""
        if self.tracing:
            self.tracing.instrument(app)

    def stop(self) -> None:
        self.sdk.stop()
        if self.tracing:
            self.tracing.shutdown()


@dataclass
class WorkerHealth:
    """What ``/healthz`` of the worker checks: the worker runs, and Temporal and the database answer."""

    client: Client | None = None
    store: Store | None = None
    worker: asyncio.Task[None] | None = None

    async def check(self) -> tuple[bool, dict[str, str]]:
        """Whether the worker is healthy, and each check's result."""
        checks = {"worker": "ok", "temporal": "ok", "database": "ok"}
        if self.client is None or self.store is None:
            return False, {"worker": "starting", "temporal": "not connected yet", "database": "not open yet"}
        if self.worker is None or self.worker.done():
            checks["worker"] = "not running"
        try:
            await self.client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timedelta(seconds=2))
        except Exception as err:  # any failure means "not healthy", said in the body
            checks["temporal"] = f"unreachable: {type(err).__name__}"
        try:
            await run_in_threadpool(self.store.ping)
        except Exception as err:
            checks["database"] = f"unreachable: {type(err).__name__}"
        return all(v == "ok" for v in checks.values()), checks


def worker_endpoints(registry: CollectorRegistry, health: WorkerHealth) -> Starlette:
    """The worker's ``/metrics`` (`registry`) and ``/healthz`` (`health`), for ``SIGNOFF_METRICS_PORT``."""

    async def metrics(_: Request) -> Response:
        return Response(await run_in_threadpool(render_metrics, registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        healthy, checks = await health.check()
        return JSONResponse({"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503)

    return Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz)])


def bind_endpoint(host: str, port: int) -> socket.socket | None:
    """A listening socket for the worker's endpoint, or None (said in the log) when the port is taken.

    A worker whose metrics port is taken still serves its task queue: its
    tasks matter more than its metrics, and the failing health check says the rest.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        log.error(
            "metrics endpoint off: cannot listen", host=host, port=port, error=str(err), setting="SIGNOFF_METRICS_PORT"
        )
        return None
    return sock
