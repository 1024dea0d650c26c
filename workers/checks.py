"""`signoff check`: can signoff reach what its settings point at?"""

from __future__ import annotations

import asyncio

from config.settings import Settings
from domain.errors import IntegrationError
from integrations.schema import create_engine
from integrations.store import Store
from workers.temporal import connect
from workers.wiring import build_chat, build_mailer, build_tracker


async def run_checks(settings: Settings) -> tuple[list[str], bool]:
    """One line per dependency, and whether every configured one answered."""
    lines: list[str] = []
    healthy = True

    try:
        client = await asyncio.wait_for(connect(settings.temporal), 5)
        del client  # connecting asks the server for its system info
        lines.append(f"ok    temporal   {settings.temporal.address} (namespace {settings.temporal.namespace})")
    except Exception as err:
        healthy = False
        reason = "connection refused" if "refused" in str(err).lower() else type(err).__name__
        hint = "start `signoff dev` or set SIGNOFF_TEMPORAL_ADDRESS"
        lines.append(f"FAIL  temporal   {settings.temporal.address}: {reason} — {hint}")

    store = Store(create_engine(settings.database()))  # no I/O yet: the adapters below only hold it
    try:
        store.ping()
        lines.append(f"ok    database   {_redact(settings.database())}")
    except Exception as err:
        healthy = False
        lines.append(
            f"FAIL  database   {_redact(settings.database())}: {type(err).__name__} — check SIGNOFF_DATABASE_URL"
        )

    for name, adapter in (
        ("jira", build_tracker(settings, store)),
        ("smtp", build_mailer(settings, store)),
        ("chat", build_chat(settings, store)),
    ):
        check = getattr(adapter, "check", None)
        if check is None:
            lines.append(f"ok    {name:<10} not configured: the outbox stands in")
            continue
        try:
            lines.append(f"ok    {name:<10} {await asyncio.to_thread(check)}")
        except IntegrationError as err:
            healthy = False
            lines.append(f"FAIL  {name:<10} {err}")
    return lines, healthy


def _redact(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
