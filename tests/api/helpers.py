"""What the HTTP tests share: launch parameters, waiting, links and forms."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any, TypeVar

import httpx
from temporalio.client import WorkflowExecutionStatus

from domain.ids import process_id
from domain.rules import at_hour
from tests.conftest import PUBLIC_URL, Stack

T = TypeVar("T")

OWNER = "pm@example.com"
APPROVERS = ["vp@example.com", "legal@example.com"]


def link_pattern(public_url: str) -> re.Pattern[str]:
    """An approval link under `public_url` in a message body; group 1 is its token."""
    return re.compile(re.escape(public_url) + r"/approve/([A-Za-z0-9_.\-]+)")


LINK = link_pattern(PUBLIC_URL)


def launch_params(launch_date: date, **changes: Any) -> dict[str, Any]:
    """Valid launch parameters with a product name no other test uses."""
    params: dict[str, Any] = {
        "product": f"Acme {uuid.uuid4().hex[:8]}",
        "launch_date": launch_date.isoformat(),
        "owner": OWNER,
        "approvers": list(APPROVERS),
        "owners": {"docs": "docs@example.com", "support": "support@example.com"},
        "stakeholders": ["all@example.com"],
    }
    return params | changes


def launch_id(params: dict[str, Any]) -> str:
    """The id a launch with `params` gets."""
    return process_id("launch", params["product"], params["launch_date"])


async def start(client: httpx.AsyncClient, params: dict[str, Any]) -> dict[str, Any]:
    """Start a launch through the API; returns the 201 body."""
    response = await client.post("/api/processes", json={"kind": "launch", "params": params})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 20.0) -> T:
    """The first truthy answer of `probe`, asked every 50 ms for `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def audit(client: httpx.AsyncClient, pid: str) -> list[dict[str, Any]]:
    """The audit trail of `pid` through the API (empty before its first event)."""
    response = await client.get(f"/api/processes/{pid}/audit")
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def view(client: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    """GET /api/processes/{pid}, which must answer 200."""
    response = await client.get(f"/api/processes/{pid}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_action(client: httpx.AsyncClient, pid: str, action: str) -> list[dict[str, Any]]:
    """The audit trail once it holds an event `action`."""

    async def probe() -> list[dict[str, Any]] | None:
        events = await audit(client, pid)
        return events if any(e["action"] == action for e in events) else None

    return await eventually(probe, f"audit event {action!r} of {pid}")


async def wait_for_status(
    client: httpx.AsyncClient, pid: str, status: str, stack: Stack | None = None
) -> dict[str, Any]:
    """The process once its status is `status`.

    With `stack`, skips server time past the launch moment when the process
    waits for it (a launch date of today waits for 09:00 UTC).
    """
    for _ in range(200):
        current = await view(client, pid)
        if current["status"] == status:
            return current
        launch_day = next(s for s in current["steps"] if s["key"] == "launch-day")
        if stack is not None and launch_day["status"] == "active":
            launch_at = at_hour(date.fromisoformat(current["params"]["launch_date"]), 9)
            now = await stack.env.get_current_time()
            if now < launch_at:
                await stack.env.sleep(launch_at - now + timedelta(minutes=1))
        await asyncio.sleep(0.05)
    raise AssertionError(f"{pid} never reached status {status!r}; last {current['status']!r}")


async def wait_until_idle(client: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    """The process once its kickoff is over and it waits on its checklist or its gate.

    Then no activity is in flight: it waits on a condition or a timer only.
    """

    async def probe() -> dict[str, Any] | None:
        current = await view(client, pid)
        steps = {s["key"]: s["status"] for s in current["steps"]}
        if steps["checklist"] == "active" and steps["go-no-go"] == "pending":
            return current
        if steps["go-no-go"] == "active":
            await wait_for_action(client, pid, "approval_requested")
            return current
        return None

    idle = await eventually(probe, f"{pid} to finish its kickoff")
    await trail_written(client, pid)
    return idle


async def trail_written(client: httpx.AsyncClient, pid: str) -> list[dict[str, Any]]:
    """The process's audit trail once the store has every event the process recorded (written beside it)."""

    async def caught_up() -> list[dict[str, Any]] | None:
        recorded = (await view(client, pid))["recorded_events"]
        trail = await audit(client, pid)
        return trail if len(trail) >= recorded else None

    return await eventually(caught_up, f"{pid}'s audit trail to be written")


async def wait_closed(stack: Stack, pid: str) -> WorkflowExecutionStatus:
    """How the workflow of `pid` closed, once Temporal says it has (it drains its handlers first)."""

    async def probe() -> WorkflowExecutionStatus | None:
        status = (await stack.client.get_workflow_handle(pid).describe()).status
        return status if status not in (None, WorkflowExecutionStatus.RUNNING) else None

    return await eventually(probe, f"the workflow {pid} to close")


async def approval_links(client: httpx.AsyncClient, pid: str) -> dict[str, str]:
    """Each approver's approval link, from the emails in the outbox, once all are sent.

    The chat request to each approver carries the same link (the same token) behind its buttons.

    Waits until the gate's `approval_requested` event is written, the last
    thing the workflow does before it waits for decisions.
    """
    await wait_for_action(client, pid, "approval_requested")
    response = await client.get("/api/outbox", params={"process": pid})
    assert response.status_code == 200, response.text
    links: dict[str, str] = {}
    in_chat: dict[str, set[str]] = {}
    for entry in response.json():
        found = LINK.search(entry["body"])
        if found and entry["channel"] == "chat":
            in_chat[entry["to"][0]] = set(LINK.findall(entry["body"]))
        elif found:
            assert entry["channel"] == "email"
            assert entry["subject"].startswith("Go / no-go for ")
            (approver,) = entry["to"]
            assert approver not in links, f"two approval emails for {approver}"
            links[approver] = found.group(0)
    assert in_chat == {approver: {token_of(link)} for approver, link in links.items()}
    return links


def path_of(link: str) -> str:
    """The path of an absolute link under the public URL."""
    assert link.startswith(PUBLIC_URL + "/")
    return link.removeprefix(PUBLIC_URL)


def token_of(link: str) -> str:
    """The token at the end of an approval link."""
    return link.rsplit("/", 1)[1]


def text_of(html: str) -> str:
    """The visible text of a page, tags dropped and spaces collapsed."""
    body = html.split("<body", 1)[-1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


class Forms(HTMLParser):
    """The forms of a page: their attributes and their fields."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = {"attrs": attributes, "fields": []}
            self.forms.append(self._open)
        elif tag in ("input", "textarea", "select", "button") and self._open is not None and "name" in attributes:
            self._open["fields"].append({"tag": tag, **attributes})

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(html: str) -> list[dict[str, Any]]:
    """Every form on `html`."""
    return Forms(html).forms
