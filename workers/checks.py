"""The commands that look at this machine's signoff from settings: `signoff check` and `signoff audit verify`.

Both open the store as it is, never making one: run in the wrong directory,
they say where they looked and that nothing is there, instead of leaving an
empty database behind and reporting on it.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from config.settings import Settings
from domain.errors import IntegrationError, NotFound, Unavailable
from integrations.schema import create_engine
from integrations.store import ChainsChecked, Store
from workers.temporal import connect
from workers.waiting import reason, redact
from workers.wiring import build_chat, build_mailer, build_tracker


def where_to_look(settings: Settings) -> str:
    """What to do when the store is not where the settings say: look elsewhere, or let signoff make it."""
    if settings.database_url:
        return "check SIGNOFF_DATABASE_URL (signoff's tables are made by `signoff worker` on its first start)"
    return "run it where `signoff dev` runs, or give --data-dir, SIGNOFF_DATA_DIR or SIGNOFF_DATABASE_URL"


async def run_checks(settings: Settings) -> tuple[list[str], bool]:
    """One line per dependency, and whether every configured one answered."""
    lines: list[str] = []
    healthy = True

    try:
        client = await asyncio.wait_for(connect(settings.temporal, patience=0), 5)
        del client  # connecting asks the server for its system info
        lines.append(f"ok    temporal   {settings.temporal.address} (namespace {settings.temporal.namespace})")
    except Exception as err:
        healthy = False
        why = "connection refused" if "refused" in str(err).lower() else type(err).__name__
        hint = "start `signoff dev` (or give --data-dir of one running) or set SIGNOFF_TEMPORAL_ADDRESS"
        lines.append(f"FAIL  temporal   {settings.temporal.address}: {why} — {hint}")

    line, reached = _database_line(settings)
    lines.append(line)
    healthy = healthy and reached
    store = Store(create_engine("sqlite://"))  # the adapters below only hold a store: their checks never use it
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


def _database_line(settings: Settings) -> tuple[str, bool]:
    """The database's line, and whether it is there with signoff's tables in it.

    A store without tables fails: nothing has run on it, which is worth
    saying before anyone trusts it (the worker makes them on its first
    start). One whose tables are empty is a fresh install: it passes and
    says 0 processes.
    """
    shown = redact(settings.database_location())
    try:
        processes = open_store_as_it_is(settings).count_processes()
    except NotFound as err:
        return f"FAIL  database   {err} — {where_to_look(settings)}", False
    except Unavailable as err:
        return f"FAIL  database   {err} — check SIGNOFF_DATABASE_URL", False
    except sa.exc.SQLAlchemyError as err:
        return f"FAIL  database   cannot read {shown}: {reason(err)} — check SIGNOFF_DATABASE_URL", False
    return f"ok    database   {shown} ({processes:,} process{'es' * (processes != 1)})", True


def open_store_as_it_is(settings: Settings) -> Store:
    """The store the settings point at, opened to read: nothing made, nothing migrated.

    Raises:
        NotFound: no database file there, or a database without signoff's tables (the sentence says where).
        Unavailable: the database did not answer, or is not one signoff can read.
    """
    url = settings.database_location()
    try:
        store = Store.open_existing(url)
        if not store.has_tables():
            raise NotFound(f"{redact(url)} is empty, without signoff's tables: nothing has run on it")
    except FileNotFoundError as err:
        raise NotFound(f"no audit store at {err.args[0]}") from None
    except (sa.exc.SQLAlchemyError, ImportError) as err:
        raise Unavailable(f"cannot read {redact(url)}: {reason(err)}") from None
    return store


def verify_audit(settings: Settings) -> ChainsChecked:
    """`signoff audit verify`: every hash chain in the store the settings point at, with what was checked.

    Raises:
        NotFound: no store there, or one without a single audit event (nothing verified is no proof).
        Unavailable: the database did not answer.
    """
    store = open_store_as_it_is(settings)
    try:
        checked = store.check_chains()
    except sa.exc.SQLAlchemyError as err:
        raise Unavailable(f"cannot read {redact(settings.database_location())}: {reason(err)}") from None
    if not checked.events:
        raise NotFound(f"the audit store at {redact(settings.database_location())} holds no audit events to verify")
    return checked
