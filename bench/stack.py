"""The two sides `bench/approval.py` measures, running: `signoff dev` and a bare workflow's worker, and what a
client does with each (start a message, find its link, open the page, click; start, update, wait for a bare run).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from bench.bare import WORKFLOW as BARE

REVIEWER = "reviewer@example.com"
LINK = re.compile(r"/approve/[A-Za-z0-9._-]+")
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """Resident memory of `pid`, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


@dataclass
class Stack:
    """`signoff dev` and the bare worker, running."""

    http: httpx.AsyncClient
    temporal: Client
    signoff: subprocess.Popen[bytes]
    bare: subprocess.Popen[bytes]
    bare_queue: str

    @property
    def server_pid(self) -> int:
        return next(pid for pid in children(self.signoff.pid) if "temporal" in Path(f"/proc/{pid}/cmdline").read_text())

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of the Temporal server, `signoff dev` (worker and web), the bare worker and this client."""
        pids = {
            "server": self.server_pid,
            "signoff": self.signoff.pid,
            "bare_worker": self.bare.pid,
            "client": os.getpid(),
        }
        return {name: cpu_seconds(pid) for name, pid in pids.items()}


@contextlib.asynccontextmanager
async def running(data_dir: Path) -> AsyncIterator[Stack]:
    port, temporal_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    log = (data_dir / "signoff.log").open("wb")
    signoff = subprocess.Popen(
        [str(BIN / "signoff"), "dev", "--port", str(port), "--temporal-port", str(temporal_port),
         "--data-dir", str(data_dir / "stack")],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    queue, address = f"bench-bare-{uuid.uuid4().hex[:6]}", f"127.0.0.1:{temporal_port}"
    bare: subprocess.Popen[bytes] | None = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            await poll(lambda: healthy(http), every=0.1, timeout=120)
            bare = subprocess.Popen([sys.executable, "-m", "bench.bare", address, queue], stdout=log, stderr=log)
            temporal = await Client.connect(address)
            yield Stack(http, temporal, signoff, bare, queue)
    finally:
        for child in (bare, signoff):
            if child is not None:
                child.terminate()
                child.wait(30)


async def healthy(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


# ---- signoff's side ------------------------------------------------------------


async def start_message(http: httpx.AsyncClient) -> str:
    """A one-reviewer, one-recipient message, sent as soon as it is approved."""
    params = {
        "subject": f"Bench {uuid.uuid4().hex[:12]}",
        "body": "The service is down for maintenance on Sunday from 02:00 to 03:00 UTC.",
        "audience": ["customer@customer.example"],
        "reviewers": [f"{REVIEWER}:Reviewer"],
        "owner": "pm@example.com",
    }
    response = await http.post("/api/processes", json={"kind": "comms", "params": params})
    response.raise_for_status()
    process_id: str = response.json()["id"]
    return process_id


async def poll(probe: Callable[[], Awaitable[Any]], every: float = 0.025, timeout: float = 600) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(every)
    raise TimeoutError("the benchmark waited too long")


async def approval_link(http: httpx.AsyncClient, process_id: str, every: float = 0.05, timeout: float = 600) -> str:
    """The reviewer's link, once the outbox has their request."""

    async def emailed() -> str | None:
        for entry in (await http.get("/api/outbox", params={"process": process_id})).json():
            found = LINK.search(entry["body"]) if entry["channel"] == "email" and entry["to"] == [REVIEWER] else None
            if found:
                return found.group(0)
        return None

    link: str = await poll(emailed, every=every, timeout=timeout)
    return link


async def open_page(http: httpx.AsyncClient, link: str) -> str:
    """The page a reviewer opens: its form token."""
    found = FORM_TOKEN.search((await http.get(link)).text)
    assert found, f"no form on {link}"
    return found.group(1)


def notice(html: str) -> str:
    """What a page's notice says (its first ``notice`` paragraph), for a failure's message."""
    found = re.search(r'class="notice[^"]*"><p>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else html[:300]


SPENT: dict[str, list[float]] = {"update": [], "page": []}
"""What the approval page says it spent on each click (its ``Server-Timing``), ms."""


BUSY: list[str] = []
"""Every 503 a click was answered with (the process did not answer in time), by link; the click is tried again."""


async def click(http: httpx.AsyncClient, link: str, form_token: str) -> float:
    """The reviewer's approval, timed from the POST to its answer (ms), after the pause every 503 asked for."""
    began = time.perf_counter()
    response = await http.post(link, data={"decision": "approve", "comment": "", "form_token": form_token})
    while response.status_code == 503:
        BUSY.append(link)
        await asyncio.sleep(float(response.headers.get("retry-after", "5")))
        began = time.perf_counter()
        response = await http.post(link, data={"decision": "approve", "comment": "", "form_token": form_token})
    # the 503 said it might still be done, and if it was, the retry finds the decision in
    done_before = response.status_code == 409 and f"{REVIEWER} already decided" in response.text and bool(BUSY)
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200 or done_before, f"{response.status_code}: {notice(response.text)}"
    for part in response.headers.get("server-timing", "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name in SPENT:
            SPENT[name].append(float(duration))
    return elapsed


async def signoff_run(stack: Stack) -> None:
    """A message started over HTTP, approved from its link's page, waited on until sent (through Temporal, as
    the bare runs are: polling signoff's API from 20 clients would load the process being measured)."""
    process_id = await start_message(stack.http)
    link = await approval_link(stack.http, process_id, every=0.25)
    await click(stack.http, link, await open_page(stack.http, link))
    await stack.temporal.get_workflow_handle(process_id).result()


# ---- the bare side -------------------------------------------------------------


async def bare_update(stack: Stack, workflow_id: str) -> float:
    began = time.perf_counter()
    await stack.temporal.get_workflow_handle(workflow_id).execute_update(
        "decide", "approve", rpc_timeout=timedelta(seconds=60)
    )
    return (time.perf_counter() - began) * 1000


async def start_bare(stack: Stack, with_activities: bool) -> str:
    handle = await stack.temporal.start_workflow(
        BARE, with_activities, id=f"bare-{uuid.uuid4().hex}", task_queue=stack.bare_queue
    )
    return handle.id


async def bare_run(stack: Stack) -> None:
    handle = stack.temporal.get_workflow_handle(await start_bare(stack, with_activities=True))
    await handle.execute_update("decide", "approve")
    await handle.result()
