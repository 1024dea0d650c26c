"""The preview's test server dies with signoff, even killed outright, and a killed preview's folder is swept
(`workers.plan_server`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from workers.plan_server import FOLDER_PREFIX, STALE_AFTER, sweep_stale_folders

HOLDS_A_SERVER = """
import asyncio, sys
from workers.plan_server import time_skipping_server
from workers.preview import preview_runtime

async def main():
    async with time_skipping_server(preview_runtime()) as env:
        await env.get_current_time()
        print("up", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_the_test_server_dies_when_the_preview_is_killed_outright() -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDS_A_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "up"
        [server] = children(holder.pid)
        assert alive(server)

        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        deadline = time.monotonic() + 10
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.05)

        assert not alive(server), "the test server went with the process that started it"
    finally:
        holder.kill()


def test_a_killed_previews_folder_is_swept_once_an_hour_old() -> None:
    old = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    (old / "plan.db").write_bytes(b"left behind")
    young = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    hours_ago = time.time() - STALE_AFTER.total_seconds() - 60
    os.utime(old, (hours_ago, hours_ago))
    try:
        swept = sweep_stale_folders()

        assert old in swept and not old.exists()
        assert young.exists(), "a running preview's folder stays"
    finally:
        for folder in (old, young):
            shutil.rmtree(folder, ignore_errors=True)
