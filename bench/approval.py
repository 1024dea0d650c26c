"""Where signoff stands where a person waits: the approval click, approval-shaped runs, 10,000 waiting.

    .venv/bin/python -m bench.approval [--clicks 200] [--seconds 30] [--clients 20] [--burst 1000] [--waiting 10000]

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
  running the bare shape (start → activity → update → activity → done);
  and the CPU a run costs each process (server, signoff, bare worker, client).
- **burst**: N messages started at once by 20 clients: every history read
  for workflow task timeouts, the time until all reach their review, and
  the web service's answers (health, a process page) probed meanwhile.
- **waiting**: N messages waiting at their review: the start rate, RSS of the
  signoff process (worker and web) and of the Temporal server, and how long
  the oldest links (long out of the worker's cache) take to answer.

Results and method: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType

from bench.stack import (
    BUSY,
    SPENT,
    Stack,
    approval_link,
    bare_run,
    bare_update,
    click,
    open_page,
    poll,
    rss_mib,
    running,
    signoff_run,
    start_bare,
    start_message,
)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


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
    bare = [await start_bare(stack, with_activities=False) for _ in range(count)]
    await asyncio.sleep(2)  # every bare run at its wait
    signoff_ms, bare_ms, floor_ms = [], [], []
    for link, form, workflow_id in zip(links, forms, bare, strict=True):
        signoff_ms.append(await click(http, link, form))
        await asyncio.sleep(0.25)  # one click at a time on a quiet stack: its follow-ups done
        bare_ms.append(await bare_update(stack, workflow_id))
        await asyncio.sleep(0.25)
        floor_ms.append(await http_floor(http))
        await asyncio.sleep(0.05)
    ours, theirs = percentiles(signoff_ms), percentiles(bare_ms)
    spent = {f"{name}_ms_p50": statistics.median(samples) for name, samples in SPENT.items() if samples}
    return {
        "signoff": ours,
        "bare": theirs,
        "ratio_p50": ours["p50"] / theirs["p50"],
        "http_floor": percentiles(floor_ms),
    } | spent


async def http_floor(http: httpx.AsyncClient) -> float:
    """The least an HTTP request to the web service costs (ms): a path no route serves, through every
    middleware and back, on the same connection as the clicks. The click is this plus the update plus the
    page; the bare update makes no HTTP request at all."""
    began = time.perf_counter()
    response = await http.get("/bench-no-such-path")
    assert response.status_code == 404, response.status_code
    return (time.perf_counter() - began) * 1000


async def throughput(
    stack: Stack, run: Callable[[], Awaitable[None]], clients: int, seconds: float
) -> tuple[float, dict[str, float]]:
    """Runs completed per second by `clients` clients running `run` back to back for `seconds`, and the CPU
    each process spent per run (ms)."""
    done = 0
    stop = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        while time.monotonic() < stop:
            await run()
            done += 1

    began, cpu = time.monotonic(), stack.cpu_seconds()
    await asyncio.gather(*(client() for _ in range(clients)))
    spent = {name: (seconds - cpu[name]) * 1000 / done for name, seconds in stack.cpu_seconds().items()}
    return done / (time.monotonic() - began), spent


async def runs(stack: Stack, clients: int, seconds: float) -> dict[str, Any]:
    """Approval-shaped runs/s, bare and signoff, alternating twice to share the machine's moods; and what a
    run costs each process in CPU (the machine's two cores are the limit: both sides keep them busy)."""
    rates: dict[str, list[float]] = {"bare": [], "signoff": []}
    costs: dict[str, list[dict[str, float]]] = {"bare": [], "signoff": []}
    for _ in range(2):
        for side, run in (("bare", lambda: bare_run(stack)), ("signoff", lambda: signoff_run(stack))):
            rate, cost = await throughput(stack, run, clients, seconds)
            rates[side].append(rate)
            costs[side].append(cost)
    bare, ours = statistics.mean(rates["bare"]), statistics.mean(rates["signoff"])
    cpu = {
        f"{side}_cpu_ms_per_run": {
            name: round(statistics.mean(c[name] for c in costs[side]), 1) for name in costs[side][0]
        }
        for side in costs
    }
    return {"signoff_runs_s": ours, "bare_runs_s": bare, "ratio": ours / bare} | cpu


async def burst(stack: Stack, count: int, clients: int) -> dict[str, Any]:
    """`count` messages started as fast as `clients` clients can: how fast they are accepted and all reach their
    review (the first step), whether any workflow task timed out (every history is read), and how the web service
    answers meanwhile (its health and one process's page, probed every second)."""
    http = stack.http
    started: list[str] = []
    probes: dict[str, list[float]] = {"healthz": [], "process_page": []}
    began = time.monotonic()

    async def timed(path: str) -> float:
        at = time.perf_counter()
        (await http.get(path)).raise_for_status()
        return (time.perf_counter() - at) * 1000

    async def probe() -> None:
        while True:
            probes["healthz"].append(await timed("/healthz"))
            if started:
                probes["process_page"].append(await timed(f"/processes/{started[0]}"))
            await asyncio.sleep(1)

    claimed = 0

    async def starter() -> None:
        nonlocal claimed
        while claimed < count:
            claimed += 1
            started.append(await start_message(http))

    async def all_at_review() -> bool:
        rows = (await http.get("/api/processes", params={"kind": "comms", "status": "waiting"})).json()
        return len(rows) >= count

    probing = asyncio.create_task(probe())
    await asyncio.gather(*(starter() for _ in range(clients)))
    accepted = time.monotonic() - began
    await poll(all_at_review, every=2, timeout=max(600.0, count / 2))
    reached = time.monotonic() - began
    probing.cancel()
    timeouts = 0
    for pid in started:
        async for event in stack.temporal.get_workflow_handle(pid).fetch_history_events():
            timeouts += event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
    return {
        "processes": count,
        "starts_accepted_per_s": count / accepted,
        "seconds_until_all_at_review": reached,
        "workflow_task_timeouts": timeouts,
    } | {
        f"{name}_ms_{stat}": value
        for name, samples in probes.items()
        for stat, value in (("p50", statistics.median(samples)), ("max", max(samples)))
    }


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
    measured = {
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
    }
    print(json.dumps(measured), flush=True)  # before the old links, which a backlog can keep waiting
    old_ms = []
    BUSY.clear()
    for pid in started[:20]:
        link = await approval_link(http, pid)
        began_click = time.perf_counter()
        form = await open_page(http, link)
        old_ms.append((time.perf_counter() - began_click) * 1000 + await click(http, link, form))
    return measured | {
        "old_link_page_and_click_ms_p50": statistics.median(old_ms),
        "old_link_page_and_click_ms_max": max(old_ms),
        "old_link_clicks_answered_503": len(BUSY),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"first_task": await first_task_cpu()}
    print(json.dumps(results), flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    print(f"the stack's data and log: {scratch}", flush=True)
    async with running(scratch) as stack:
        if args.clicks:
            results["click"] = await clicks(stack, args.clicks)
            print(json.dumps(results["click"]), flush=True)
        if args.seconds:
            results["runs"] = await runs(stack, args.clients, args.seconds)
            print(json.dumps(results["runs"]), flush=True)
        if args.burst:
            results["burst"] = await burst(stack, args.burst, args.clients)
            print(json.dumps(results["burst"]), flush=True)
        if args.waiting:
            results["waiting"] = await waiting(stack, args.waiting, args.clients)
    shutil.rmtree(scratch)  # kept when the run fails, for its log
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="also write the results here (JSON)")
    results = asyncio.run(main(parser.parse_args()))
    text = json.dumps(results, indent=2)
    print(text)
    if parser.parse_args().out:
        parser.parse_args().out.write_text(text + "\n")
