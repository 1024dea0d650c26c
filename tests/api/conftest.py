"""The web service over the per-test worker stack, driven through HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Authenticator
from api.deps import Services
from api.service import Processes
from config.settings import LogSettings
from config.templates import load_template
from config.triggers import load_triggers
from domain.access import Role
from integrations.people import People
from tests.conftest import PUBLIC_URL, Stack
from workers.logs import configure_logging, unconfigure_logging

REQUEST_TIMEOUT = 30.0
"""Seconds one request may take before the test fails instead of hanging the suite."""


class BoundedASGITransport(httpx.ASGITransport):
    """An ASGI transport that gives up on a request after `REQUEST_TIMEOUT` seconds
    (httpx's own timeouts do not apply to an in-process app)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        limit = request.extensions.get("patience", REQUEST_TIMEOUT)  # a request that runs a whole preview
        return await asyncio.wait_for(super().handle_async_request(request), limit)


@pytest.fixture
async def now(stack: Stack) -> datetime:
    """The time-skipping server's time when the test starts (never the real time: see tests/clock.py)."""
    return await stack.env.get_current_time()


@pytest.fixture
def today(now: datetime) -> date:
    """Today on the time-skipping server."""
    return now.date()


LIVE_WITHIN = timedelta(seconds=15)
"""How long these tests' pages wait for the live state (production: `api.service.LIVE_WITHIN`, 1.2 s): they check
what a process does, and on two shared cores a query can take longer than that, which would show the store's
copy instead. tests/api/test_reading_without_worker.py checks the copy, with production's wait."""


DEV_USER = "admin@localhost"
"""Who every request is, unless it sends a token: the app runs in dev mode, as `signoff dev` does."""

JIRA_WEBHOOK_SECRET = "jira-webhook-secret"
EVENTS_SECRET = "events-secret"


@pytest.fixture
async def app_client(stack: Stack, today: date, now: datetime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app built on `stack` (same store, tokens and task queue)."""
    async with client_of(stack, today, now=now) as client:
        yield client


@contextlib.asynccontextmanager
async def client_of(
    stack: Stack, today: date, now: datetime | None = None, **services: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app on `stack`, with `services` (`Services` fields) set besides or instead of the
    usual ones; its clock stands at `now` (the server's time at the test's start; default: `today`'s start)."""
    clock = now or datetime.combine(today, time(), UTC)
    usual: dict[str, Any] = {
        "processes": Processes(
            stack.client,
            stack.task_queue,
            load_template,
            today=lambda: today,
            live_within=LIVE_WITHIN,
            now=lambda: clock,
        ),
        "store": stack.store,
        "auth": Authenticator(People(stack.store.engine), dev_user=DEV_USER, dev_hosts=frozenset({"signoff.test"})),
        "tokens": stack.tokens,
        "public_url": PUBLIC_URL,
        "triggers": load_triggers(),
        "jira_webhook_secret": JIRA_WEBHOOK_SECRET,
        "events_secret": EVENTS_SECRET,
    }
    built = Services(**(usual | services))
    # What the app starts goes through `stack.client`: the stack ends it after the test.
    transport = BoundedASGITransport(app=create_app(built))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


def bearer(stack: Stack, email: str, role: Role = Role.MEMBER) -> dict[str, str]:
    """Headers that make a request `email`'s, with `role`: a token of theirs (the person added if new)."""
    people = People(stack.store.engine)
    if people.person(email) is None:
        people.add(email, role, by="tests")
    _, token = people.create_token(email, role, name=f"test-{len(people.tokens(email))}", by="tests")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What this process logs during the test, as `signoff worker` writes it (JSON, one object a line)."""
    stream = io.StringIO()
    handler = configure_logging(LogSettings(), "json", stream=stream, cache=False)
    yield stream
    unconfigure_logging(handler)
