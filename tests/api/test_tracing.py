"""OpenTelemetry tracing (docs/operations.md): the client, the worker and the web app in one trace.

Spans go to an in-memory exporter here instead of an OTLP collector; the
wiring is `workers.telemetry.Tracing`'s, as ``signoff worker`` / ``web`` /
``dev`` use it when ``SIGNOFF_OTEL_ENDPOINT`` is set.
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from api.service import Processes
from api.tokens import ApprovalLinks
from config.settings import OtelSettings
from config.templates import load_template
from domain.errors import BadInput
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from tests.api.conftest import client_of
from tests.api.helpers import launch_params, start, wait_until_idle
from tests.conftest import PUBLIC_URL, Stack
from workers.telemetry import Tracing
from workers.temporal import activity_methods, build_worker


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(spans: InMemorySpanExporter) -> Tracing:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return Tracing(provider)


async def test_a_request_its_workflow_and_its_activities_are_one_trace(
    stack: Stack, today: date, tracing: Tracing, spans: InMemorySpanExporter, log_lines: io.StringIO
) -> None:
    traced = tracing.client(stack.client)
    queue = f"traced-{uuid.uuid4()}"
    links = ApprovalLinks(stack.tokens, PUBLIC_URL)
    activities = activity_methods(
        TrackerActivities(OutboxTracker(stack.store, PUBLIC_URL)),
        MailActivities(OutboxMailer(stack.store), TemplateRenderer(), links),
        ChatActivities(OutboxChat(stack.store), TemplateRenderer(), links),
        AuditActivities(stack.store),
    )
    processes = Processes(traced, queue, load_template, today=lambda: today)
    async with build_worker(traced, queue, activities), client_of(stack, today, processes=processes) as client:
        tracing.instrument(client._transport.app)  # type: ignore[attr-defined]
        started = await start(client, launch_params(today))
        await wait_until_idle(client, started["id"])

    finished = spans.get_finished_spans()
    names = {span.name for span in finished}
    assert {"POST /api/processes", "StartWorkflow:launch", "RunWorkflow:launch"} <= names
    assert "RunActivity:send_email" in names and "RunActivity:create_issue" in names
    post = next(span for span in finished if span.name == "POST /api/processes")
    trace_id = post.context.trace_id
    in_trace = {span.name for span in finished if span.context.trace_id == trace_id}
    assert {"StartWorkflow:launch", "RunWorkflow:launch", "RunActivity:send_email"} <= in_trace

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = next(line for line in lines if line.get("route") == "/api/processes" and line["method"] == "POST")
    assert access["trace_id"] == format(trace_id, "032x")


def test_tracing_is_off_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert Tracing.from_settings(OtelSettings(), "worker") is None


def test_an_endpoint_without_the_packages_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(BadInput, match=r"pip install 'signoff\[otel\]'"):
        Tracing.from_settings(OtelSettings(endpoint="http://collector:4318"), "worker")


def test_an_endpoint_makes_a_provider_named_after_the_role(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from opentelemetry import trace

    installed: list[object] = []
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    tracing = Tracing.from_settings(OtelSettings(endpoint="http://collector:4318/"), "worker")
    assert tracing is not None and installed == [tracing.provider]
    assert tracing.provider.resource.attributes["service.name"] == "signoff-worker"
    tracing.shutdown()
