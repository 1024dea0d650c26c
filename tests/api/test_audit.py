"""GET /api/processes/{id}/audit: the hash-chained trail as JSON or CSV."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import sqlalchemy as sa

from domain.audit import AuditEvent, ProcessSummary
from domain.enums import ProcessStatus
from integrations.schema import audit_events
from tests.api.conftest import DEV_USER, bearer
from tests.api.helpers import OWNER, audit, launch_params, start, trail_written, wait_for_action, wait_until_idle
from tests.conftest import Stack

GENESIS = "0" * 64


async def test_audit_is_a_numbered_hash_chain(app_client: httpx.AsyncClient, stack: Stack, today: date) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    done = await app_client.post(f"/api/processes/{pid}/items/legal-review/done", headers=bearer(stack, OWNER))
    assert done.status_code == 200, done.text
    await wait_for_action(app_client, pid, "issue_transitioned")  # the item's issue closed, beside the story
    await trail_written(app_client, pid)

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
    assert events[0]["actor"] == DEV_USER  # who started it: dev mode's local admin
    assert events[0]["channel"] == "api"  # and through what
    assert events[0]["prev_hash"] == GENESIS
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(events))
    assert len({e["hash"] for e in events}) == len(events)
    done = next(n for n, e in enumerate(events) if e["action"] == "item_done")
    assert events[done]["actor"] == f"{OWNER} (token test-0)"
    # its issue closed after it (a kickoff message may still land in between, beside the story)
    assert [e["actor"] for e in events[done + 1 :] if e["action"] == "issue_transitioned"] == ["signoff"]
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


# ---- GET /api/audit: across processes, filtered, paginated ------------------------------


def _seed(stack: Stack, processes: int = 3, events: int = 5) -> list[str]:
    """Synthetic trails straight into the store: `processes` processes of `events` events each."""
    ids = [f"launch-seeded-{uuid.uuid4().hex[:6]}" for _ in range(processes)]
    for n, pid in enumerate(ids):
        for seq in range(1, events + 1):
            stack.store.append(
                AuditEvent(
                    process=ProcessSummary(id=pid, kind="launch", title=pid, owner=OWNER, status=ProcessStatus.RUNNING),
                    seq=seq,
                    at=SEED_START + timedelta(hours=n, minutes=seq),
                    actor=f"actor{seq % 2}@example.com",
                    action="decision" if seq == 3 else "message_sent",
                    details={"n": seq},
                )
            )
    return ids


SEED_START = datetime(2031, 1, 1, tzinfo=UTC)


async def test_audit_search_filters_by_process_actor_kind_and_time(app_client: httpx.AsyncClient, stack: Stack) -> None:
    ids = _seed(stack)

    async def search(**params: object) -> list[dict[str, object]]:
        response = await app_client.get("/api/audit", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        events: list[dict[str, object]] = response.json()["events"]
        return [e for e in events if str(e["process_id"]).startswith("launch-seeded-")]

    assert {e["seq"] for e in await search(process=ids[1])} == {1, 2, 3, 4, 5}
    assert {(e["process_id"], e["seq"]) for e in await search(kind="decision")} >= {(pid, 3) for pid in ids}
    assert all(e["action"] == "decision" for e in await search(kind="decision"))
    assert all(e["actor"] == "actor1@example.com" for e in await search(actor="actor1@example.com", process=ids[0]))
    window = await search(**{"from": "2031-01-01T01:00:00Z", "to": "2031-01-01T02:00:00Z"})
    assert {e["process_id"] for e in window} == {ids[1]}


async def test_audit_search_pages_through_everything_once(app_client: httpx.AsyncClient, stack: Stack) -> None:
    ids = _seed(stack, processes=2, events=7)
    seen: list[tuple[object, object]] = []
    after: dict[str, str] = {}
    while True:
        page = (await app_client.get("/api/audit", params={"process": ids[0], "limit": 3, **after})).json()
        seen += [(e["process_id"], e["seq"]) for e in page["events"]]
        assert len(page["events"]) <= 3
        if page["next"] is None:
            break
        after = {"after": page["next"]}

    assert seen == [(ids[0], seq) for seq in range(1, 8)]


async def test_audit_search_pages_in_time_order_whatever_order_rows_were_written(
    app_client: httpx.AsyncClient, stack: Stack
) -> None:
    """Events of two processes interleave in time; the one written second happened first."""
    actor = f"auditor-{uuid.uuid4().hex[:6]}@example.com"
    for pid, offset in ((f"launch-late-{actor[8:14]}", 1), (f"launch-early-{actor[8:14]}", 0)):
        for seq in range(1, 5):
            stack.store.append(
                AuditEvent(
                    process=ProcessSummary(id=pid, kind="launch", title=pid, owner=OWNER, status=ProcessStatus.RUNNING),
                    seq=seq,
                    at=SEED_START + timedelta(minutes=2 * seq + offset),
                    actor=actor,
                    action="message_sent",
                )
            )
    seen: list[datetime] = []
    after: dict[str, str] = {}
    while True:
        page = (await app_client.get("/api/audit", params={"actor": actor, "limit": 3, **after})).json()
        seen += [datetime.fromisoformat(e["at"]) for e in page["events"]]
        if page["next"] is None:
            break
        after = {"after": page["next"]}

    assert seen == [SEED_START + timedelta(minutes=m) for m in range(2, 10)]


async def test_audit_search_of_an_unknown_process_is_404(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/audit", params={"process": "launch-nothing-here-2030-01-01"})

    assert response.status_code == 404
    assert response.json() == {"detail": "no audit trail for process launch-nothing-here-2030-01-01"}


async def test_audit_search_window_in_another_zone_is_the_same_instant(
    app_client: httpx.AsyncClient, stack: Stack
) -> None:
    ids = _seed(stack)
    params = {"from": "2031-01-01T03:00:00+02:00", "to": "2031-01-01T04:00:00+02:00", "limit": 1000}

    response = await app_client.get("/api/audit", params=params)

    seeded = {e["process_id"] for e in response.json()["events"] if e["process_id"] in ids}
    assert seeded == {ids[1]}


async def test_audit_search_refuses_a_cursor_it_did_not_give(app_client: httpx.AsyncClient) -> None:
    forged = ["0001-01-01T00:00:00+05:00|1", f"2031-01-01T00:00:00+00:00|{2**63}", "2031-01-01T00:00:00|1"]
    encoded = [base64.urlsafe_b64encode(cursor.encode()).decode() for cursor in forged]
    for cursor in ("17", "bm90IGEgY3Vyc29y", "%%%", *encoded):
        response = await app_client.get("/api/audit", params={"after": cursor})

        assert response.status_code == 422, cursor
        assert "`after` is not a cursor from this API" in response.json()["detail"]


async def test_audit_search_refuses_a_time_without_a_zone_and_a_huge_page(app_client: httpx.AsyncClient) -> None:
    naive = await app_client.get("/api/audit", params={"from": "2031-01-01T00:00:00"})
    before_time = await app_client.get("/api/audit", params={"to": "0001-01-01T00:00:00+05:00"})
    huge = await app_client.get("/api/audit", params={"limit": 100_000})

    assert naive.status_code == 422 and "time zone" in naive.json()["detail"]
    assert before_time.status_code == 422 and before_time.json()["detail"] == "`to` is out of range in UTC"
    assert huge.status_code == 422 and huge.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_the_evidence_report_of_a_tampered_trail_says_where_it_breaks(
    app_client: httpx.AsyncClient, stack: Stack
) -> None:
    [pid] = _seed(stack, processes=1)
    with stack.store.engine.begin() as conn:
        conn.execute(
            sa.update(audit_events)
            .where(audit_events.c.process_id == pid, audit_events.c.seq == 2)
            .values(actor="mallory@example.com")
        )

    report = (await app_client.get(f"/api/processes/{pid}/evidence")).text
    page = await app_client.get(f"/api/processes/{pid}/evidence", params={"format": "html"})

    assert f"the hash chain **does not verify**: {pid}: event 2 was changed after it was written" in report
    assert page.status_code == 200
    assert f"<strong>the hash chain does not verify</strong>: {pid}: event 2 was changed" in page.text
