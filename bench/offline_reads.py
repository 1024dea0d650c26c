"""Reading a process while Temporal cannot answer: the process page and ``GET /api/processes/{id}`` from the store's
copy, against the same reads live, in one run.

    .venv/bin/python -m bench.offline_reads [--reads 20]

`signoff dev` (the embedded stack) in a process of its own; a few messages started and waiting at their review;
then each process's page and API read, one after another, first live, then with the Temporal server frozen
(SIGSTOP: it accepts connections and answers nothing, the worst an outage looks like to a client), then live
again once it runs on (SIGCONT). The target (issue #13): the page and the API answer within 2 s from the store's
copy, saying so; what signoff waits for Temporal is bounded by `api.service.LIVE_WITHIN`. Results and method:
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.approval import percentiles
from bench.stack import poll, running, start_message

PROCESSES = 5


async def timed(http: httpx.AsyncClient, path: str) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = await http.get(path)
    return (time.perf_counter() - began) * 1000, response


async def reads(http: httpx.AsyncClient, ids: list[str], count: int, offline: bool) -> dict[str, Any]:
    """`count` reads of each kind, round-robin over `ids`: milliseconds, and whether each said what it is."""
    api, page, honest = [], [], 0
    for n in range(count):
        pid = ids[n % len(ids)]
        took, answer = await timed(http, f"/api/processes/{pid}")
        api.append(took)
        honest += answer.status_code == 200 and answer.json()["live"] is not offline
        took, answer = await timed(http, f"/processes/{pid}")
        page.append(took)
        honest += answer.status_code == 200 and ("Live state unavailable" in answer.text) is offline
    return {"api_ms": percentiles(api) | {"max": max(api)}, "page_ms": percentiles(page) | {"max": max(page)},
            "answered_as_expected": f"{honest} of {2 * count}"}  # fmt: skip


async def main(count: int) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    results: dict[str, Any] = {}
    async with running(scratch) as stack:
        ids = [await start_message(stack.http) for _ in range(PROCESSES)]

        async def stored() -> bool:  # the list reads the store's copies: each process has one
            listed = {process["id"] for process in (await stack.http.get("/api/processes")).json()}
            return listed >= set(ids)

        await poll(stored, every=0.2, timeout=120)
        results["live"] = await reads(stack.http, ids, count, offline=False)
        os.kill(stack.server_pid, signal.SIGSTOP)
        try:
            results["temporal_frozen"] = await reads(stack.http, ids, count, offline=True)
        finally:
            os.kill(stack.server_pid, signal.SIGCONT)
        results["live_again"] = await reads(stack.http, ids, count, offline=False)
    shutil.rmtree(scratch)  # kept when the run fails, for its log
    live, frozen = results["live"]["page_ms"]["p50"], results["temporal_frozen"]["page_ms"]["p50"]
    results["page_frozen_over_live_p50"] = round(frozen / live, 1)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=20)
    print(json.dumps(asyncio.run(main(parser.parse_args().reads)), indent=2))
