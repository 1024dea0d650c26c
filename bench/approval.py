"""Where signoff stands where a person waits: the approval click, approval-shaped runs, 10,000 waiting.

    .venv/bin/python -m bench.approval [--clicks 200] [--seconds 30] [--clients 20] [--waiting 10000]

One run, one machine: `signoff dev` (the embedded stack: the Temporal dev
server, the worker and the web service) in a process of its own, and beside
it on the same dev server a bare Temporal workflow of the same shape
(`bench.bare`) with its own worker process. The client is this process, over
real HTTP for signoff and Temporal's gRPC for the bare workflow. These
machines are noisy: the ratios hold, the milliseconds do not.

- **first task**: CPU of a new process's first workflow task (a saved
  history's first task replayed, sandbox and all), median of 20.
- **click**: a reviewer's POST of the approval page → the answer, against a
  bare update's round trip to a waiting workflow, one after the other.
- **runs/s**: 20 clients each starting a one-reviewer message, approving it
  from its link's page and waiting for it to be sent, against 20 clients
  running the bare shape (start → activity → update → activity → done).
- **waiting**: N messages waiting at their review: the start rate, RSS of the
  signoff process (worker and web) and of the Temporal server, and how long
  the oldest links (long out of the worker's cache) take to answer.

Results and method: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
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


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


@dataclass
class Stack:
    """`signoff dev` and the bare worker, running."""

    http: httpx.AsyncClient
    temporal: Client
    signoff: subprocess.Popen[bytes]
    bare_queue: str

    @property
    def server_pid(self) -> int:
        return next(pid for pid in children(self.signoff.pid) if "temporal" in Path(f"/proc/{pid}/cmdline").read_text())


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
            yield Stack(http, temporal, signoff, queue)
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


SPENT: dict[str, list[float]] = {"update": [], "page": []}
"""What the approval page says it spent on each click (its ``Server-Timing``), ms."""


async def click(http: httpx.AsyncClient, link: str, form_token: str) -> float:
    """The reviewer's approval, timed from POST to answer (ms)."""
    began = time.perf_counter()
    response = await http.post(link, data={"decision": "approve", "comment": "", "form_token": form_token})
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, response.text[:300]
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


# ---- the measures ----------------------------------------------------------------


async def first_task_cpu(runs: int = 20) -> dict[str, float]:
    """CPU of a new run's first workflow task, as a worker spends it: a saved message's first task replayed
    `runs` times by one replayer (a new run each time, sandbox and all), after one to warm it."""
    from temporalio.client import WorkflowHistory
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer

    from tests.replay.record import GENERATION, HISTORIES
    from workers.temporal import workflow_runner
    from workflows.registry import WORKFLOWS

    saved = json.loads((HISTORIES / str(GENERATION) / "comms.json").read_text())
    events = saved["history"]["events"]
    first = next(n for n, e in enumerate(events) if e["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED")
    history = WorkflowHistory.from_json(saved["workflow_id"], {"events": events[: first + 1]})
    replayer = Replayer(
        workflows=list(WORKFLOWS.values()), data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )

    async def histories(count: int) -> AsyncIterator[WorkflowHistory]:
        for _ in range(count):
            yield history

    async with replayer.workflow_replay_iterator(histories(1)) as results:
        async for _ in results:
            pass
    began = time.process_time()
    async with replayer.workflow_replay_iterator(histories(runs)) as results:
        async for result in results:
            assert result.replay_failure is None, result.replay_failure
    return {"ms_cpu_per_run": (time.process_time() - began) * 1000 / runs}


async def clicks(stack: Stack, count: int) -> dict[str, Any]:
    """`count` clicks and as many bare updates, alternating, each on a process waiting for it."""
    http = stack.http
    processes = [await start_message(http) for _ in range(count)]
    links = [await approval_link(http, pid) for pid in processes]
    forms = [await open_page(http, link) for link in links]
    bare = [
        (
            await stack.temporal.start_workflow(BARE, False, id=f"bare-{uuid.uuid4().hex}", task_queue=stack.bare_queue)
        ).id
        for _ in range(count)
    ]
    await asyncio.sleep(2)  # every bare run at its wait
    signoff_ms, bare_ms = [], []
    for link, form, workflow_id in zip(links, forms, bare, strict=True):
        signoff_ms.append(await click(http, link, form))
        await asyncio.sleep(0.25)  # one click at a time on a quiet stack: its follow-ups done
        bare_ms.append(await bare_update(stack, workflow_id))
        await asyncio.sleep(0.25)
    ours, theirs = percentiles(signoff_ms), percentiles(bare_ms)
    spent = {f"{name}_ms_p50": statistics.median(samples) for name, samples in SPENT.items() if samples}
    return {"signoff": ours, "bare": theirs, "ratio_p50": ours["p50"] / theirs["p50"]} | spent


async def throughput(run: Callable[[], Awaitable[None]], clients: int, seconds: float) -> float:
    """Runs completed per second by `clients` clients running `run` back to back for `seconds`."""
    done = 0
    stop = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        while time.monotonic() < stop:
            await run()
            done += 1

    began = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.monotonic() - began)


async def runs(stack: Stack, clients: int, seconds: float) -> dict[str, float]:
    """Approval-shaped runs/s, bare and signoff, alternating twice to share the machine's moods."""
    rates: dict[str, list[float]] = {"bare": [], "signoff": []}
    for _ in range(2):
        rates["bare"].append(await throughput(lambda: bare_run(stack), clients, seconds))
        rates["signoff"].append(await throughput(lambda: signoff_run(stack), clients, seconds))
    bare, ours = statistics.mean(rates["bare"]), statistics.mean(rates["signoff"])
    return {"signoff_runs_s": ours, "bare_runs_s": bare, "ratio": ours / bare}


async def waiting(stack: Stack, count: int, clients: int) -> dict[str, float]:
    """`count` messages started as fast as 20 clients can, then left waiting at their review: how fast they
    start and reach the review, the memory they cost (the peak, sampled every 5 s), whether any workflow task
    timed out, and how long the oldest links take to answer."""
    http = stack.http
    baseline = {"signoff": rss_mib(stack.signoff.pid), "server": rss_mib(stack.server_pid)}
    peak = dict(baseline)
    started: list[str] = []
    claimed = 0
    began = time.monotonic()

    async def sample() -> None:
        while True:
            await asyncio.sleep(5)
            peak["signoff"] = max(peak["signoff"], rss_mib(stack.signoff.pid))
            peak["server"] = max(peak["server"], rss_mib(stack.server_pid))

    async def starter() -> None:
        nonlocal claimed
        while claimed < count:
            claimed += 1
            started.append(await start_message(http))

    sampling = asyncio.create_task(sample())
    await asyncio.gather(*(starter() for _ in range(clients)))
    accepted = time.monotonic() - began
    patience = max(600.0, count / 2)  # the slowest start rate worth reporting: 2 a second
    await asyncio.gather(*(approval_link(http, pid, every=1, timeout=patience) for pid in started[-clients:]))
    reached = time.monotonic() - began
    sampling.cancel()
    rss = {"signoff": rss_mib(stack.signoff.pid), "server": rss_mib(stack.server_pid)}
    timeouts = 0
    for pid in started[:: max(1, count // 50)]:  # 50 histories across the burst
        async for event in stack.temporal.get_workflow_handle(pid).fetch_history_events():
            timeouts += event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
    old_ms = []
    for pid in started[:20]:
        link = await approval_link(http, pid)
        began_click = time.perf_counter()
        form = await open_page(http, link)
        old_ms.append((time.perf_counter() - began_click) * 1000 + await click(http, link, form))
    return {
        "processes": count,
        "starts_accepted_per_s": count / accepted,
        "reached_review_per_s": count / reached,
        "minutes_until_all_at_review": reached / 60,
        "workflow_task_timeouts_in_50_histories": timeouts,
        "signoff_rss_mib_after": rss["signoff"],
        "signoff_rss_mib_peak": peak["signoff"],
        "signoff_rss_mib_before": baseline["signoff"],
        "server_rss_mib_after": rss["server"],
        "server_rss_mib_peak": peak["server"],
        "server_rss_mib_before": baseline["server"],
        "old_link_page_and_click_ms_p50": statistics.median(old_ms),
        "old_link_page_and_click_ms_max": max(old_ms),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"first_task": await first_task_cpu()}
    print(json.dumps(results), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        async with running(Path(scratch)) as stack:
            results["click"] = await clicks(stack, args.clicks)
            print(json.dumps(results["click"]), flush=True)
            results["runs"] = await runs(stack, args.clients, args.seconds)
            print(json.dumps(results["runs"]), flush=True)
            if args.waiting:
                results["waiting"] = await waiting(stack, args.waiting, args.clients)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="also write the results here (JSON)")
    results = asyncio.run(main(parser.parse_args()))
    text = json.dumps(results, indent=2)
    print(text)
    if parser.parse_args().out:
        parser.parse_args().out.write_text(text + "\n")
