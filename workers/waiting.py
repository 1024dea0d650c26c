"""Waiting at start for what a process needs: Temporal and the database, with backoff, saying what it waits for.

DESIGN.md's deployment: any of the services may start first; the others
wait, saying what for. A compose file starts PostgreSQL and Temporal beside
the worker, and a loaded machine takes seconds to warm them up: a process
that died on the first refusal would need a restart policy to paper over
it, and would print a traceback that tells the operator nothing.
`patiently` is the one waiting loop (`workers.temporal.connect` waits with
it too); `open_store` and `both_unless_stopped` are what the long-running
commands (`workers.run`) wait with.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from config.settings import Settings
from domain.errors import BadInput
from integrations.store import Store

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

SAY_EVERY = 10.0
"""Seconds between two "waiting for …" lines about the same thing."""


def print_to_stderr(line: str) -> None:
    """Say `line` on stderr, as every `signoff` sentence is."""
    print(f"signoff: {line}", file=sys.stderr, flush=True)


def redact(url: str) -> str:
    """A database URL without its password, fit for a log line (one that does not parse is not shown)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "SIGNOFF_DATABASE_URL (not a URL)"


def reason(error: BaseException) -> str:
    """The first line of what went wrong (a driver's own message for a database error), never empty."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


async def patiently(
    attempt: Callable[[], Awaitable[T]],
    what: str,
    patience: float | None,
    say: Callable[[str], None],
    retry_on: tuple[type[Exception], ...],
) -> T:
    """`attempt()` until it succeeds, for `patience` seconds (None: as long as it takes), with a growing pause.

    Says what it waits for at the first failure and then every ten seconds;
    an error not in `retry_on` ends the wait at once. With a patience, an
    attempt that hangs is cut off when the patience runs out.

    Raises:
        RuntimeError: `what` did not answer within `patience` seconds (the sentence names it).
    """
    loop = asyncio.get_running_loop()
    started, said, pause = loop.time(), -SAY_EVERY, 0.1
    retryable: tuple[type[Exception], ...] = (*retry_on, TimeoutError)
    while True:
        left = None if not patience else max(started + patience - loop.time(), 0.01)
        try:
            return await asyncio.wait_for(attempt(), left)
        except retryable as error:
            why = "no answer" if isinstance(error, TimeoutError) else reason(error)
            waited = loop.time() - started
            if patience is not None and waited >= patience:
                raise RuntimeError(f"{what} did not answer in {patience:g}s: {why}") from error
            if loop.time() - said >= SAY_EVERY:
                say(f"waiting for {what} ({waited:.0f}s so far): {why}")
                said = loop.time()
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


async def open_store(
    settings: Settings, patience: float | None = None, say: Callable[[str], None] = print_to_stderr
) -> Store:
    """The audit store with its tables in place, waiting for the database as `connect` waits for Temporal.

    PostgreSQL may not accept connections yet (starting, or still making the
    database): a refusal is waited out. A URL no driver can use is not.

    Raises:
        BadInput: SIGNOFF_DATABASE_URL is not a URL signoff can use.
        RuntimeError: the database did not answer within `patience` seconds, or the data dir cannot be made.
    """
    try:
        url = settings.database()
        sa.create_engine(url).dispose()  # parses the URL and loads its driver: no connection yet
    except OSError as error:
        raise RuntimeError(f"cannot make the data dir {settings.data_dir.resolve()}: {error.strerror}") from error
    except (sa.exc.ArgumentError, ImportError) as error:
        raise BadInput(f"SIGNOFF_DATABASE_URL is not a database signoff can use: {reason(error)}") from error
    where = f"the database at {redact(url)}"

    def attempt() -> Store:
        try:
            return Store.connect(url)
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            raise  # not answering (yet): waited out
        except (sa.exc.SQLAlchemyError, CommandError) as error:  # answering, and refusing: no use waiting
            raise RuntimeError(f"{where} refused signoff's tables: {reason(error)}") from error

    return await patiently(
        lambda: asyncio.to_thread(attempt),
        where,
        patience,
        say,
        retry_on=(sa.exc.OperationalError, sa.exc.InterfaceError),
    )


async def both_unless_stopped(stop: asyncio.Event, first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B] | None:
    """Both results, awaited side by side; None if `stop` is set first.

    Side by side, so a process waiting for two things says so for each at
    once, and a limit on the wait is one limit. The first to fail ends the
    other and raises its error.
    """
    waits = (asyncio.ensure_future(first), asyncio.ensure_future(second))
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stopping.done() and not all(wait.done() for wait in waits):
            await asyncio.wait([stopping, *waits], return_when=asyncio.FIRST_COMPLETED)
            for wait in waits:
                if wait.done() and (error := wait.exception()) is not None:
                    raise error
    finally:
        for task in (stopping, *waits):
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # seen: a second failure is not reported as never retrieved
    if stopping.done() and not stopping.cancelled():
        return None
    return waits[0].result(), waits[1].result()
