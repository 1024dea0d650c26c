"""`signoff dev` as a child process on free ports, for the tests that drive the real stack."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from workers.devserver import port_in_use
from workers.temporal import find_binary

LINK = re.compile(r"http://127\.0\.0\.1:\d+/approve/\S+")


def free_port(also_free: int = 0) -> int:
    """A free port whose neighbour `+also_free` is free too (the Temporal UI)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port + also_free < 65536 and not port_in_use(port + also_free):
            return port


def eventually(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class DevStack:
    """`signoff dev` as a child process."""

    def __init__(self, data_dir: Path, templates: Path, *options: str) -> None:
        self.data_dir = data_dir
        self.options = options
        self.port = free_port()
        self.temporal_port = free_port(also_free=1000)
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
        self.env["SIGNOFF_TEMPLATES_DIR"] = str(templates)
        self.process: subprocess.Popen[str] | None = None

    @property
    def log(self) -> Path:
        """Everything the stack prints, in a file: a pipe nobody reads fills up (64 KiB of access lines) and
        stops the stack mid-write."""
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def output(self) -> str:
        """What the stack printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        self._log = self.log.open("w")
        self.process = subprocess.Popen(
            [
                find_binary("signoff"),
                "dev",
                "--port",
                str(self.port),
                "--temporal-port",
                str(self.temporal_port),
                "--data-dir",
                str(self.data_dir),
                *self.options,
            ],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        eventually(self._healthy, timeout=120, what="signoff dev to answer /healthz")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"signoff dev exited: {self.output()}")
        try:
            return requests.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> str:
        """Ctrl-C, as a person would; returns what the stack printed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self._log.close()
        return self.output()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process:
            self._log.close()

    def get(self, path: str, **kwargs: Any) -> Any:
        response = requests.get(f"{self.base}{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def trail(self, process_id: str) -> list[dict[str, Any]]:
        """A process's audit trail; empty (not a 404) until its first event is written, which follows the start."""
        response = requests.get(f"{self.base}/api/processes/{process_id}/audit", timeout=30)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()
        return events


def launch_params(product: str, launch_date: str) -> dict[str, Any]:
    return {
        "product": product,
        "launch_date": launch_date,
        "owner": "pm@example.com",
        "approvers": ["vp@example.com", "legal@example.com"],
        "owners": {"docs": "docs@example.com", "support": "support@example.com"},
        "stakeholders": ["everyone@example.com"],
        "template": "midnight-launch",
    }
