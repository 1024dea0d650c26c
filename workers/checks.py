"""`signoff check`: can signoff reach what its settings point at?"""

from __future__ import annotations

import asyncio

from config.settings import Settings
from workers.temporal import connect
from workers.wiring import build_store


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
        lines.append(
            f"FAIL  temporal   {settings.temporal.address}: {type(err).__name__}: {err} "
            "— start `signoff dev` or set SIGNOFF_TEMPORAL_ADDRESS"
        )

    try:
        build_store(settings).ping()
        lines.append(f"ok    database   {_redact(settings.database())}")
    except Exception as err:
        healthy = False
        lines.append(
            f"FAIL  database   {_redact(settings.database())}: {type(err).__name__} — check SIGNOFF_DATABASE_URL"
        )

    for name, configured in (
        ("jira", settings.jira.url),
        ("smtp", settings.smtp.host),
        ("slack", settings.slack.token),
        ("teams", settings.teams.webhook_url),
    ):
        if not configured:
            lines.append(f"ok    {name:<10} not configured: the outbox stands in")
        else:
            lines.append(f"skip  {name:<10} configured, but this version only uses the outbox")
    return lines, healthy


def _redact(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
