"""Production's shape on one machine, for the fault suite: every piece a process that can be killed.

The Temporal dev server (its own binary, a SQLite file that survives a
restart), ``signoff worker`` as a child process (killed with SIGKILL and
started again), the store on a PostgreSQL database of its own (made for the
run, dropped after), a real SMTP server, and the fake Slack and Jira. The
worker is configured the way an operator configures it: ``SIGNOFF_``
environment variables only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from integrations.store import Store
from tests.faults.servers import Board, HeldJira, HeldSlack, Hold, Request, SmtpServer
from tests.integration.devstack import free_port
from workers.devserver import DevServer
from workers.temporal import find_binary

POSTGRES_URL = os.environ.get("SIGNOFF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TASK_QUEUE = "faults"
SLACK_TOKEN = "xoxb-faults"
PROJECT = "FAULTS"
TEMPLATES = Path(__file__).parent / "templates"


def _die_with_parent() -> None:  # runs in the child
    """Linux: the worker is killed if the suite dies, however it dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class PostgresMissing(RuntimeError):
    """No PostgreSQL to run on (the suite then skips, saying so)."""


def new_database(base_url: str = POSTGRES_URL) -> str:
    """Create a fresh database ``signoff_faults_<random>`` beside `base_url`'s and return its URL.

    Raises:
        PostgresMissing: the server did not answer, or would not create it.
    """
    parsed = sa.engine.make_url(base_url)
    name = f"signoff_faults_{secrets.token_hex(4)}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # no server, no driver, no rights: the caller says so and skips
        raise PostgresMissing(f"PostgreSQL at {parsed.render_as_string()} ({type(err).__name__}: {err})") from err
    finally:
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@dataclass
class Kill:
    """One kill -9 of the worker: when, what was held, and when the new worker polled again."""

    at: float
    holds: list[Hold]
    ready_after: float | None = None


@dataclass
class TableLock:
    """``LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE`` held by the suite until released: the worker's next read
    or write of it blocks in PostgreSQL, mid-activity (``audit_events``: an audit write, or a schedule's run
    recording itself once its process started; ``people``: a schedule's run checking its creator, before it
    starts anything)."""

    url: str
    table: str = "audit_events"
    engine: sa.Engine = field(init=False)
    conn: sa.Connection | None = None

    def __post_init__(self) -> None:
        self.engine = sa.create_engine(self.url, poolclass=NullPool)

    def take(self, mode: str = "ACCESS EXCLUSIVE") -> None:
        """Lock the table in `mode`: ``ACCESS EXCLUSIVE`` stops every read and write of it, ``SHARE`` only the
        writes."""
        self.conn = self.engine.connect()
        self.conn.begin()
        self.conn.execute(sa.text(f"LOCK TABLE {self.table} IN {mode} MODE"))

    def waiters(self) -> int:
        """How many sessions wait for the lock (the worker's read or write)."""
        query = sa.text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = :table AND NOT l.granted "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query, {"table": self.table}).scalar_one())

    def latest(self) -> int:
        """The id of the newest audit row (0: none)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit_events")).scalar_one())

    def release(self) -> None:
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        self.release()
        self.engine.dispose()


class Rig:
    """Everything the worker talks to, and the worker, on free loopback ports under `folder`."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.board = Board()
        self.smtp = SmtpServer(self.board)
        self.slack = HeldSlack(self.board, SLACK_TOKEN)
        self.jira = HeldJira(self.board, projects=(PROJECT,), workflows={PROJECT: "three-step"})
        self.temporal_port = free_port(also_free=1000)
        self.temporal = DevServer(folder / "temporal.db", self.temporal_port, free_port(), folder / "temporal.log")
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_log: IO[bytes] | None = None
        self.kills: list[Kill] = []
        self.store: Store
        self.client: Client
        self.audit_lock = TableLock(database_url, "audit_events")
        self.people_lock = TableLock(database_url, "people")
        self.locks = {"audit": self.audit_lock, "people": self.people_lock}
        """The table locks a hold's `server` names: the request is held by the table being locked."""
        self.hostname = socket.gethostname()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    # ---- the whole -----------------------------------------------------------

    async def start(self) -> None:
        self.store = Store.connect(self.database_url)  # the schema, before the worker looks
        self.smtp.start()
        self.slack.start()
        self.jira.__enter__()
        await self.temporal.start()
        self.client = await self.connect()
        self.start_worker()
        await self.worker_ready()

    async def stop(self) -> None:
        for hold in self.board.holds:
            hold.release()
        for lock in self.locks.values():
            lock.close()
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.worker.wait, 30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        if self.worker_log is not None:
            self.worker_log.close()
        await self.temporal.stop()
        self.smtp.stop()
        self.slack.stop()
        self.jira.__exit__()
        self.store.engine.dispose()

    async def connect(self) -> Client:
        deadline = time.monotonic() + 60
        while True:
            try:
                return await Client.connect(self.address, data_converter=pydantic_data_converter)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    # ---- the worker ------------------------------------------------------------

    def worker_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
        env.update(
            {
                "SIGNOFF_TEMPORAL_ADDRESS": self.address,
                "SIGNOFF_TEMPORAL_TASK_QUEUE": TASK_QUEUE,
                "SIGNOFF_DATABASE_URL": self.database_url,
                "SIGNOFF_DATA_DIR": str(self.folder / "data"),
                "SIGNOFF_SECRET_KEY": "faults-secret-key",
                "SIGNOFF_PUBLIC_URL": "https://signoff.faults.test",
                "SIGNOFF_METRICS_PORT": "0",
                "SIGNOFF_SMTP_HOST": self.smtp.host,
                "SIGNOFF_SMTP_PORT": str(self.smtp.port),
                "SIGNOFF_SMTP_TLS": "none",
                "SIGNOFF_SMTP_FROM": "signoff@faults.test",
                "SIGNOFF_SLACK_TOKEN": SLACK_TOKEN,
                "SIGNOFF_SLACK_API_URL": self.slack.api_url,
                "SIGNOFF_JIRA_URL": self.jira.url,
                "SIGNOFF_JIRA_USER": self.jira.user,
                "SIGNOFF_JIRA_TOKEN": self.jira.token,
                "SIGNOFF_TEMPLATES_DIR": str(TEMPLATES),  # what a schedule's run starts with (tests/faults/templates)
            }
        )
        return env

    def start_worker(self) -> None:
        if self.worker_log is None:
            self.worker_log = (self.folder / "worker.log").open("ab")
        self.worker = subprocess.Popen(
            [find_binary("signoff"), "worker"],
            env=self.worker_env(),
            cwd=self.folder,  # no .env of the checkout's
            stdin=subprocess.DEVNULL,
            stdout=self.worker_log,
            stderr=self.worker_log,
            preexec_fn=_die_with_parent,
        )

    def kill_worker(self) -> float:
        """kill -9 the worker; returns when (monotonic)."""
        assert self.worker is not None
        at = time.monotonic()
        os.kill(self.worker.pid, signal.SIGKILL)
        self.worker.wait()
        return at

    async def worker_ready(self, timeout: float = 90) -> float:
        """Wait until the current worker polls its task queue; returns when (monotonic)."""
        assert self.worker is not None
        identity = f"{self.worker.pid}@{self.hostname}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({self.worker.returncode}); see {self.folder / 'worker.log'}")
            with contextlib.suppress(Exception):
                answer = await self.client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(namespace="default", task_queue=TaskQueue(name=TASK_QUEUE))
                )
                if any(p.identity == identity for p in answer.pollers):
                    return time.monotonic()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the worker did not poll within {timeout:.0f}s; see {self.folder / 'worker.log'}")

    async def kill_and_restart(self, holds: list[Hold]) -> Kill:
        """kill -9 the worker with `holds` in flight, release them (their answers go nowhere), start a new one."""
        at = self.kill_worker()
        kill = Kill(at, holds)
        for hold in holds:
            hold.killed_at = at
            if hold.server in self.locks:
                self.locks[hold.server].release()
            if hold.server == "audit":
                threading.Thread(target=self._watch_audit_retry, args=(hold,), daemon=True).start()
            hold.release()
        self.start_worker()
        ready = await self.worker_ready()
        kill.ready_after = ready - at
        self.kills.append(kill)
        return kill

    def _watch_audit_retry(self, hold: Hold) -> None:
        """The retry of a killed audit write: the first row written after the kill."""
        before = hold.request.detail["latest"] if hold.request else 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self.audit_lock.latest() > before:
                    hold.retried_at = time.monotonic()
                    return
            time.sleep(0.05)

    # ---- Temporal ---------------------------------------------------------------

    async def restart_temporal(self, down: float) -> None:
        """Stop the Temporal server, wait `down` seconds, start it again on the same file and port."""
        await self.temporal.stop()
        await asyncio.sleep(down)
        await self.temporal.start()

    # ---- the audit store ----------------------------------------------------------

    async def hold_audit(self, hold: Hold, timeout: float = 30) -> bool:
        """Lock the audit table until the worker's write waits on it (then `hold` has arrived); False, and the
        lock released, if no write came within `timeout` seconds."""
        return await self.hold_table(hold, timeout)

    async def hold_table(
        self,
        hold: Hold,
        timeout: float = 30,
        also: Callable[[], Awaitable[bool]] | None = None,
        settle: float = 0.0,
        then: Callable[[], Awaitable[object]] | None = None,
        mode: str = "ACCESS EXCLUSIVE",
    ) -> bool:
        """Lock the table of `hold.server` (`locks`) in `mode`, do `then`, and wait until a worker's session waits
        on the table and `also` says so (then, `settle` seconds later, `hold` has arrived); False, and the lock
        released, if not within `timeout` seconds."""
        lock = self.locks[hold.server]
        await asyncio.to_thread(lock.take, mode)
        try:
            if then is not None:
                await then()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if await asyncio.to_thread(lock.waiters) and (also is None or await also()):
                    await asyncio.sleep(settle)
                    latest = await asyncio.to_thread(self._latest_unlocked) if hold.server == "audit" else 0
                    hold.request = Request(hold.server, hold.label, frozenset(), {"latest": latest})
                    hold.taken, hold.arrived_at = True, time.monotonic()
                    hold.arrived.set()
                    return True  # (held until the killer releases it)
                await asyncio.sleep(0.1)
        except BaseException:  # cancelled (its scenario out of time): nothing may stay locked
            lock.release()
            raise
        lock.release()
        return False

    def _latest_unlocked(self) -> int:
        """The newest audit row's id, read under our own lock (another session would wait on it)."""
        assert self.audit_lock.conn is not None
        return int(self.audit_lock.conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit_events")).scalar_one())
