"""GET /api/processes/{id}/audit: the hash-chained trail as JSON or CSV."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date, datetime, timedelta

import httpx

from tests.api.helpers import OWNER, audit, launch_params, start, wait_until_idle

GENESIS = "0" * 64


async def test_audit_is_a_numbered_hash_chain(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    done = await app_client.post(f"/api/processes/{pid}/items/legal-review/done", headers={"X-Signoff-Actor": OWNER})
    assert done.status_code == 200, done.text

    response = await app_client.get(f"/api/processes/{pid}/audit")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    events = response.json()
    assert isinstance(events, list)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert len(events) > 15  # started, 13 issues, a chat post and the owners' emails, the item
    for event in events:
        assert {"actor", "action", "at", "hash", "prev_hash"} <= set(event)
        assert event["process_id"] == pid
        assert len(event["hash"]) == 64
        datetime.fromisoformat(event["at"])
    assert events[0]["action"] == "started"
    assert events[0]["actor"] == "api"
    assert events[0]["prev_hash"] == GENESIS
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(events))
    assert len({e["hash"] for e in events}) == len(events)
    assert [(e["action"], e["actor"]) for e in events[-2:]] == [
        ("item_done", OWNER),
        ("issue_transitioned", "signoff"),
    ]
    assert await audit(app_client, pid) == events
    explicit = await app_client.get(f"/api/processes/{pid}/audit", params={"format": "json"})
    assert explicit.json() == events


async def test_audit_as_csv_has_a_header_and_a_row_per_event(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    events = await audit(app_client, pid)

    response = await app_client.get(f"/api/processes/{pid}/audit", params={"format": "csv"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{pid}-audit.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    header, body = rows[0], rows[1:]
    assert {"seq", "at", "actor", "action", "hash", "prev_hash"} <= set(header)
    assert len(body) == len(events)
    records = [dict(zip(header, row, strict=True)) for row in body]
    assert [int(r["seq"]) for r in records] == [e["seq"] for e in events]
    assert [r["action"] for r in records] == [e["action"] for e in events]
    assert [r["hash"] for r in records] == [e["hash"] for e in events]
    assert json.loads(records[0]["details"])["params"]["owner"] == OWNER


async def test_audit_of_an_unknown_process_is_404(app_client: httpx.AsyncClient) -> None:
    for fmt in ("json", "csv"):
        response = await app_client.get("/api/processes/launch-nothing-here-2030-01-01/audit", params={"format": fmt})

        assert response.status_code == 404
        assert response.json() == {"detail": "no audit trail for process launch-nothing-here-2030-01-01"}


async def test_audit_in_an_unknown_format_is_422(app_client: httpx.AsyncClient, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]

    response = await app_client.get(f"/api/processes/{pid}/audit", params={"format": "xml"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "format"]
