"""POST /api/processes: a launch starts, bad input is refused and starts nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.api.helpers import OWNER, eventually, launch_id, launch_params, start, view


async def refused(client: httpx.AsyncClient, params: dict[str, Any], status: int = 422) -> Any:
    """Post a launch that must be refused with `status`; check it started nothing."""
    response = await client.post("/api/processes", json={"kind": "launch", "params": params})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    if "product" in params and "launch_date" in params:
        missing = await client.get(f"/api/processes/{launch_id(params)}")
        assert missing.status_code == 404, missing.text
    listed = await client.get("/api/processes")
    assert listed.status_code == 200
    assert listed.json() == []
    return response.json()["detail"]


def locs(detail: list[dict[str, Any]]) -> list[list[Any]]:
    return [error["loc"] for error in detail]


async def test_start_answers_201_with_the_new_process(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30), owner="PM@Example.com", policy=1)

    response = await app_client.post("/api/processes", json={"kind": "launch", "params": params})

    assert response.status_code == 201, response.text
    body = response.json()
    slug = params["product"].lower().replace(" ", "-")
    assert body["id"] == f"launch-{slug}-{params['launch_date']}"
    assert body["kind"] == "launch"
    assert body["status"] == "running"
    assert body["owner"] == OWNER
    assert body["title"] == f"Launch: {params['product']} on {params['launch_date']}"
    assert body["params"]["product"] == params["product"]
    assert body["params"]["launch_date"] == params["launch_date"]
    assert body["params"]["owner"] == OWNER
    assert body["params"]["approvers"] == params["approvers"]
    assert body["params"]["policy"] == 1
    assert [(s["key"], s["status"]) for s in body["steps"]] == [
        ("kickoff", "pending"),
        ("checklist", "pending"),
        ("go-no-go", "pending"),
        ("launch-day", "pending"),
    ]
    started = await view(app_client, body["id"])
    assert started["id"] == body["id"]


async def test_unknown_kind_is_422_listing_the_known_kinds(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today)
    response = await app_client.post("/api/processes", json={"kind": "party", "params": params})

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "party" in detail
    assert "known kinds: launch" in detail
    assert (await app_client.get("/api/processes")).json() == []


async def test_missing_field_is_422_naming_it(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today)
    del params["owner"]

    detail = await refused(app_client, params)

    assert locs(detail) == [["params", "owner"]]
    assert detail[0]["type"] == "missing"


async def test_empty_params_name_every_required_field(app_client: httpx.AsyncClient) -> None:
    detail = await refused(app_client, {})

    assert sorted(map(tuple, locs(detail))) == sorted(
        [
            ("params", "product"),
            ("params", "launch_date"),
            ("params", "owner"),
            ("params", "approvers"),
        ]
    )


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"launch_date": "15/12/2026"}, ["params", "launch_date"]),
        ({"launch_date": "2026-02-30"}, ["params", "launch_date"]),
        ({"owner": "not-an-email"}, ["params", "owner"]),
        ({"approvers": ["vp@example.com", "legal at example.com"]}, ["params", "approvers", 1]),
        ({"policy": 3}, ["params", "policy"]),
        ({"policy": "most"}, None),
        ({"approvers": []}, ["params", "approvers"]),
    ],
    ids=["date-format", "no-such-day", "owner-email", "approver-email", "quorum-too-large", "policy-word", "nobody"],
)
async def test_malformed_params_are_422_naming_the_field(
    app_client: httpx.AsyncClient, today: date, change: dict[str, Any], loc: list[Any] | None
) -> None:
    params = launch_params(today + timedelta(days=30)) | change

    detail = await refused(app_client, params)

    if loc is None:
        assert all(error["loc"][:2] == ["params", "policy"] for error in detail), detail
    else:
        assert locs(detail) == [loc]
    assert all(error["msg"] for error in detail)


async def test_quorum_larger_than_the_approvers_says_so(app_client: httpx.AsyncClient, today: date) -> None:
    detail = await refused(app_client, launch_params(today + timedelta(days=30), policy=3))

    assert locs(detail) == [["params", "policy"]]
    assert "quorum of 3 cannot be met by 2 approver(s)" in detail[0]["msg"]


async def test_launch_date_in_the_past_is_422(app_client: httpx.AsyncClient, today: date) -> None:
    yesterday = today - timedelta(days=1)

    detail = await refused(app_client, launch_params(yesterday))

    assert locs(detail) == [["params", "launch_date"]]
    assert "in the past" in detail[0]["msg"]
    assert today.isoformat() in detail[0]["msg"]


async def test_launch_date_today_is_accepted(app_client: httpx.AsyncClient, today: date) -> None:
    body = await start(app_client, launch_params(today))

    assert body["params"]["launch_date"] == today.isoformat()


async def test_owner_listed_as_approver_is_422(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30), approvers=["vp@example.com", OWNER])

    detail = await refused(app_client, params)

    assert locs(detail) == [["params", "approvers"]]
    assert OWNER in detail[0]["msg"]


async def test_second_start_of_the_same_launch_is_409(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30))
    first = await start(app_client, params)

    again = await app_client.post("/api/processes", json={"kind": "launch", "params": params})

    assert again.status_code == 409, again.text
    assert first["id"] in again.json()["detail"]

    async def listed() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = (await app_client.get("/api/processes")).json()
        return rows or None

    rows = await eventually(listed, "the process in the list")
    assert [r["id"] for r in rows] == [first["id"]]
