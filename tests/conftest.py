"""Shared fixtures: the time-skipping Temporal server and a worker per test.

Every test on the time-skipping server starts at the same pinned moment
(`tests/clock.py`), so what it sees never depends on the hour it runs.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.client import (
    Client,
    WorkflowHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from api.tokens import ApprovalLinks, ApprovalTokens
from config.templates import load_template
from domain.audit import StoredAuditEvent
from domain.comms import CommsInput, CommsParams, Preapproval, content_hash
from domain.eol import EolInput, EolParams
from domain.launch import LaunchInput, LaunchParams
from domain.postmortem import PostmortemInput, PostmortemParams
from domain.templates import CommsTemplate, EolTemplate, LaunchTemplate, PostmortemTemplate
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.outbox_records import OutboxEntry
from integrations.ports import Mailer, Tracker
from integrations.schema import create_engine, metadata
from integrations.store import Store
from tests.clock import start_test
from workers.temporal import activity_methods, build_worker, find_binary
from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow
from workflows.launch import LaunchWorkflow
from workflows.postmortem import PostmortemWorkflow

POSTGRES_URL = os.environ.get("SIGNOFF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL the store tests also run on (these machines run one on loopback)."""

SERVER_STARTUP = timedelta(seconds=30)
"""How long a Temporal server a test starts may take to answer: the SDK's own 5 s was passed by a cold binary
starting beside three other test processes."""

SECRET = "test-secret-key"
PUBLIC_URL = "http://signoff.test"


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server per test; it starts in about 0.1 s.

    Not shared: the test server holds a lock on skipping time for every
    workflow task and activity it has scheduled until that task completes, and
    a workflow a test leaves running (or ends mid-task) can keep it held,
    which would freeze the clock of every later test on the same server (each
    starts by skipping to its start clock, tests/clock.py). A wedge like
    temporalio/sdk-java#2391 stays in one test too. What a test leaves running
    goes away with its server.
    """
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
        test_server_startup_timeout=SERVER_STARTUP,
    ) as environment:
        yield environment


def _postgres_or_skip() -> str:
    try:
        url = _own_database(POSTGRES_URL)
        store = Store(create_engine(url))
        store.ping()
    except Exception as err:  # no server, no driver, no access: say so and skip
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({type(err).__name__}); set SIGNOFF_TEST_POSTGRES_URL")
    metadata.drop_all(store.engine)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    store.engine.dispose()
    return url


def _own_database(url: str) -> str:
    """`url` for this test process: under pytest-xdist each worker gets a database of its own
    (``test_gw0`` …), created on first use, so workers never drop each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same store tests on SQLite (embedded) and PostgreSQL (production), empty each time."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'signoff.db'}"
    return _postgres_or_skip()


@dataclass
class Stack:
    """A worker on its own task queue, with its store and outbox."""

    env: WorkflowEnvironment
    client: Client
    task_queue: str
    store: Store
    tokens: ApprovalTokens

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def start_launch(
        self, days_ahead: int = 30, overrides: dict[str, Any] | None = None, **params: Any
    ) -> WorkflowHandle[Any, Any]:
        """Start a launch `days_ahead` from today; `overrides` replaces fields of the bundled template
        (``{"compress_when_late": False}``), `gate=` fields of its gate."""
        launch_date = (await self.today()) + timedelta(days=days_ahead)
        defaults: dict[str, Any] = {
            "product": f"Acme {uuid.uuid4().hex[:6]}",
            "launch_date": launch_date,
            "owner": "pm@example.com",
            "approvers": ["vp@example.com", "legal@example.com"],
            "owners": {"docs": "docs@example.com", "support": "support@example.com"},
            "stakeholders": ["all@example.com"],
        }
        template_overrides = params.pop("gate", None)
        retrospective = load_template("retrospective", "postmortem") if params.pop("retrospective", False) else None
        launch = LaunchParams.model_validate(defaults | params)
        template = load_template("launch", "launch")
        assert isinstance(template, LaunchTemplate)
        if template_overrides:
            template = template.model_copy(update={"gate": template.gate.model_copy(update=template_overrides)})
        if overrides:
            template = LaunchTemplate.model_validate(template.model_dump() | overrides)
        return await self.client.start_workflow(
            LaunchWorkflow.run,
            LaunchInput(params=launch, template=template, requested_by="pm@example.com", retrospective=retrospective),
            id=launch.id(),
            task_queue=self.task_queue,
        )

    async def start_comms(
        self,
        template: dict[str, Any] | None = None,
        parent: str | None = None,
        preapproved: bool = False,
        **params: Any,
    ) -> WorkflowHandle[Any, Any]:
        """Start a customer message; `template` overrides fields of the bundled comms template. With `parent`, as
        that process starts one (an end of life its notice), its text approved there already if `preapproved`."""
        defaults: dict[str, Any] = {
            "subject": f"Maintenance {uuid.uuid4().hex[:6]}",
            "body": "We upgrade **Acme** on Sunday.\n\n- Dashboards: read-only\n- Exports: paused",
            "audience": ["ana@customer.example", "bo@customer.example", "cy@customer.example"],
            "reviewers": ["cs@example.com:Customer Success", "eng@example.com:Engineering"],
            "owner": "pm@example.com",
        }
        comms = CommsParams.model_validate(defaults | params)
        loaded = load_template("comms", "comms")
        assert isinstance(loaded, CommsTemplate)
        for field, value in (template or {}).items():
            current = getattr(loaded, field)
            update = current.model_copy(update=value) if isinstance(value, dict) else value
            loaded = loaded.model_copy(update={field: update})
        hash_, approved = content_hash(comms.subject, comms.body), [r.email for r in comms.reviewers]
        given = Preapproval(content_hash=hash_, process=parent or "", approvers=approved) if preapproved else None
        by = "signoff" if parent else comms.owner
        return await self.client.start_workflow(
            CommsWorkflow.run,
            CommsInput(params=comms, template=loaded, requested_by=by, parent=parent, preapproved=given),
            id=comms.id(await self.today()),
            task_queue=self.task_queue,
        )

    async def start_postmortem(
        self, template: str = "postmortem", overrides: dict[str, Any] | None = None, **params: Any
    ) -> WorkflowHandle[Any, Any]:
        """Start a post-mortem of an incident resolved an hour ago; `overrides` replaces template fields."""
        now = await self.env.get_current_time()
        defaults: dict[str, Any] = {
            "incident": f"INC-{uuid.uuid4().hex[:6]}",
            "title": "Checkout errors after the payments deploy",
            "severity": "SEV2",
            "commander": "ic@example.com",
            "participants": ["sre@example.com"],
            "reviewers": ["cto@example.com"],
            "resolved_at": (now - timedelta(hours=1)).isoformat(),
        }
        postmortem = PostmortemParams.model_validate(defaults | params)
        loaded = load_template(template, "postmortem")
        assert isinstance(loaded, PostmortemTemplate)
        if overrides:
            loaded = PostmortemTemplate.model_validate(loaded.model_dump() | overrides)
        return await self.client.start_workflow(
            PostmortemWorkflow.run,
            PostmortemInput(params=postmortem, template=loaded, requested_by=postmortem.owner),
            id=postmortem.id(now.date()),
            task_queue=self.task_queue,
        )

    async def start_eol(self, template: dict[str, Any] | None = None, **params: Any) -> WorkflowHandle[Any, Any]:
        """Start an end of life announced in 10 days and shut down in 120; `template` overrides template fields."""
        today = await self.today()
        defaults: dict[str, Any] = {
            "product": f"Legacy {uuid.uuid4().hex[:6]}",
            "announce_date": today + timedelta(days=10),
            "end_of_sale": today + timedelta(days=30),
            "end_of_support": today + timedelta(days=60),
            "shutdown_date": today + timedelta(days=120),
            "customers": ["ana@customer.example", "bo@customer.example"],
            "migration_guide": "https://docs.example.com/migrate",
            "approvers": ["vp@example.com", "legal@example.com"],
            "owner": "pm@example.com",
            "owners": {
                "sales": "sales@example.com",
                "support": "support@example.com",
                "engineering": "eng@example.com",
            },
        }
        eol = EolParams.model_validate(defaults | params)
        loaded = load_template("eol", "eol")
        assert isinstance(loaded, EolTemplate)
        if template:
            loaded = EolTemplate.model_validate(loaded.model_dump() | template)
        notice = load_template("comms", "comms")
        assert isinstance(notice, CommsTemplate)
        return await self.client.start_workflow(
            EolWorkflow.run,
            EolInput(params=eol, template=loaded, requested_by=eol.owner, notice=notice),
            id=eol.id(today),
            task_queue=self.task_queue,
        )

    def trail(self, process_id: str) -> list[StoredAuditEvent]:
        return list(self.store.trail(process_id))

    def outbox(self, process_id: str) -> list[OutboxEntry]:
        return self.store.outbox(process_id)


@contextlib.asynccontextmanager
async def running_stack(
    env: WorkflowEnvironment,
    tmp_path: Path,
    tracker: Callable[[Store], Tracker] | None = None,
    mailer: Callable[[Store], Mailer] | None = None,
    public_url: str = PUBLIC_URL,
) -> AsyncIterator[Stack]:
    """A fresh store and a worker on a fresh task queue of `env`, the outbox behind every port
    unless `tracker` or `mailer` builds another adapter on the store."""
    store = Store.connect(f"sqlite:///{tmp_path / 'signoff.db'}")
    tokens = ApprovalTokens(SECRET)
    links = ApprovalLinks(tokens, public_url)
    renderer = TemplateRenderer()
    activities = activity_methods(
        TrackerActivities(tracker(store) if tracker else OutboxTracker(store, public_url)),
        MailActivities(mailer(store) if mailer else OutboxMailer(store), renderer, links),
        ChatActivities(OutboxChat(store), renderer, links),
        AuditActivities(store),
    )
    task_queue = f"tq-{uuid.uuid4()}"
    async with build_worker(env.client, task_queue, activities):
        await start_test(env)
        yield Stack(env, env.client, task_queue, store, tokens)


@pytest.fixture
async def stack(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    """A stack on the session's shared time-skipping server."""
    async with running_stack(env, tmp_path) as running:
        yield running


TEARDOWN_LIMIT = 120.0
"""Seconds a test's teardown may take. A failing test disarms pytest-timeout's timer and pytest's faulthandler
(both stop at ``pytest_exception_interact``, for a debugger), so a teardown that then hangs — a worker or a
server that never stops — hung a whole CI run; this arms a watchdog of its own for every teardown."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """End the test process, every thread's stack on the real stderr, when a teardown passes `TEARDOWN_LIMIT`
    (pytest-xdist then names the test and goes on)."""
    from _pytest.faulthandler import fault_handler_stderr_fd_key

    fd = item.config.stash.get(fault_handler_stderr_fd_key, None)
    faulthandler.dump_traceback_later(TEARDOWN_LIMIT, exit=True, file=fd if fd is not None else sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
