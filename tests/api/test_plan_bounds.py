"""A preview is refused before it costs anything when it could not finish in its time, stops when its caller goes
away (so the one preview slot frees), and says in our words what happened when its test server fails.

What a preview costs was measured (workers/preview.py: `PER_DAY`, `PER_DECIDER`, `MAX_DECIDERS`); these tests hold
the refusals to those bounds and to sentences that name what to shorten.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from config.templates import Templates, load_template
from domain.errors import Unavailable
from tests.api.helpers import launch_params
from tests.api.test_plans import PREVIEW, no_preview_running  # noqa: F401  (each test starts with the slot free)
from workers import preview, preview_check
from workers.plan_server import FOLDER_PREFIX


def eol_params(today: date, shutdown_in: int, approvers: int = 2) -> dict[str, Any]:
    days = {"announce_date": 1, "end_of_sale": shutdown_in // 3, "end_of_support": 2 * shutdown_in // 3}
    params: dict[str, Any] = {key: (today + timedelta(days=n)).isoformat() for key, n in days.items()}
    return params | {
        "shutdown_date": (today + timedelta(days=shutdown_in)).isoformat(), "product": "Legacy Reports",
        "customers": ["ana@customer.example"], "migration_guide": "https://docs.example.com/migrate",
        "approvers": [f"a{n}@example.com" for n in range(approvers)], "owner": "pm@example.com",
    }  # fmt: skip


async def test_an_end_of_life_ten_years_away_is_previewed_as_far_as_a_preview_reaches_saying_so(
    app_client: httpx.AsyncClient, today: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preview_check, "PER_DAY", 6.0)  # (a reach of 14 days, so the test takes seconds)
    reach = int((preview.BUDGET - preview.PER_DECIDER * 2) / 6.0)
    shutdown = today + timedelta(days=3650)

    answer = await app_client.post(
        "/api/plans", json={"kind": "eol", "params": eol_params(today, 3650)}, extensions=PREVIEW
    )

    assert answer.status_code == 200, answer.text
    plan = answer.json()
    until = today + timedelta(days=reach)
    assert plan["stopped_short"] == (
        f"A preview follows a process up to {until} in the 120 s it may take, so this one stopped there, before "
        f"its shutdown_date ({shutdown}): what comes after is not shown"
    )
    assert plan["status"] in ("running", "waiting")
    assert datetime.fromisoformat(plan["ends"]).date() == until + timedelta(days=1)
    assert max(datetime.fromisoformat(e["at"]).date() for e in plan["timeline"]) <= until + timedelta(days=1)
    assert [e["action"] for e in plan["timeline"]].count("notice_sent") == 1, "its first month is shown: the notice"


async def test_a_launch_with_25_approvers_is_refused_at_once_naming_them(
    app_client: httpx.AsyncClient, today: date
) -> None:
    params = launch_params(today + timedelta(days=30), approvers=[f"a{n}@example.com" for n in range(25)])

    refused = await app_client.post("/api/plans", json={"kind": "launch", "params": params})

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["loc"] == ["params", "approvers"]
    assert error["msg"] == (
        f"a preview plays up to {preview.MAX_DECIDERS} approvers and reviewers; this one has 25 — preview with "
        "fewer, or start it without a preview"
    )


def test_what_a_preview_can_finish_is_followed_to_its_end() -> None:
    """The most approvers are played, and an end of life as far as a preview reaches is followed to its end; one
    a day farther stops at the reach."""
    today = datetime.now(UTC).date()
    most = launch_params(today + timedelta(days=30), approvers=[f"a{n}@example.com" for n in range(10)])
    reach = int((preview.BUDGET - preview.PER_DECIDER * 2) / preview.PER_DAY) - preview.TAIL_DAYS
    for kind, params in [("launch", most), ("eol", eol_params(today, reach)), ("eol", eol_params(today, 150))]:
        assert preview.check(kind, params, templates=load_template, actor="pm@example.com", today=today).reach is None
    farther = preview.check("eol", eol_params(today, reach + 1), templates=load_template, actor="pm@", today=today)
    assert farther.reach is not None and farther.reach.field == "shutdown_date"
    assert farther.reach.until == today + timedelta(days=reach + preview.TAIL_DAYS)


async def test_a_preview_whose_caller_goes_away_stops_and_frees_the_slot(
    app_client: httpx.AsyncClient, today: date, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller disconnects 3 s in; a launch 120 days out takes far longer than that to preview."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its folder apart from other workers' previews
    app = cast(Any, app_client)._transport.app  # the app itself: httpx's transport cannot disconnect mid-request
    body = json.dumps({"kind": "launch", "params": launch_params(today + timedelta(days=120))}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/plans", "raw_path": b"/api/plans", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"signoff.test"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000), "server": ("signoff.test", 80),
    }  # fmt: skip
    began = time.monotonic()
    gone_at = began + 3
    sent: list[dict[str, Any]] = []
    read = False

    async def receive() -> dict[str, Any]:
        nonlocal read
        if not read:
            read = True
            return {"type": "http.request", "body": body, "more_body": False}
        if time.monotonic() < gone_at:  # as uvicorn: wait while connected, answer at once once gone
            await asyncio.sleep(gone_at - time.monotonic())
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 60)
    answered = time.monotonic()
    while not preview._RUNNING.acquire(blocking=False):
        assert time.monotonic() - answered < 30, "the preview still holds the slot after its caller went"
        await asyncio.sleep(0.1)
    freed = time.monotonic()
    preview._RUNNING.release()

    assert sent[0]["status"] == 499, sent
    assert answered - began < 15, "the request ends soon after its caller goes"
    assert freed - began < 40, "the slot frees in seconds, not when the preview would have ended"
    assert not list(Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*")) or all(
        folder.stat().st_mtime < began for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*")
    ), "the stopped preview's folder is gone"
    busy = await app_client.post("/api/plans", json={"kind": "nope", "params": {}})
    assert busy.status_code == 422, "the next preview is served, not told another one runs"


def own_test_servers() -> list[int]:
    """The time-skipping test servers this process started (a preview's), by pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"temporal-test-server" in command:
            found.append(int(entry.name))
    return found


async def test_a_test_server_that_dies_mid_preview_is_told_in_our_words() -> None:
    today = datetime.now(UTC).date()
    params = launch_params(today + timedelta(days=60))
    running = asyncio.ensure_future(
        preview.preview("launch", params, templates=Templates([]), actor="pm@example.com", public_url="http://x")
    )
    for _ in range(300):  # the server is up and the preview under way
        servers = own_test_servers()
        if servers:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(3)
    for pid in servers:
        os.kill(pid, signal.SIGKILL)

    with pytest.raises(Unavailable) as stopped:
        await asyncio.wait_for(running, preview.PATIENCE + 60)  # (its worker may take a while to give up)

    said = str(stopped.value)
    assert said.startswith("the preview's test server stopped answering"), said
    assert "nothing was kept: try again, and if it stops again, preview with fewer approvers or nearer dates" in said
    for jargon in ("h2", "Timeout expired", "RPC", "grpc", "error:"):
        assert jargon not in said, said
