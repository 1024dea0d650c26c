"""Pages for people, and the operations endpoints."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from tests.api.helpers import eventually, launch_params, start, text_of, wait_until_idle


async def test_process_list_page_shows_the_title(app_client: httpx.AsyncClient, today: date) -> None:
    empty = await app_client.get("/")
    assert empty.status_code == 200
    assert "No processes yet" in empty.text
    started = await start(app_client, launch_params(today + timedelta(days=30)))

    async def listed() -> str | None:
        response = await app_client.get("/")
        assert response.status_code == 200
        return response.text if started["title"] in response.text else None

    html = await eventually(listed, "the process on the list page")
    assert response_links_to(html, f"/processes/{started['id']}")
    assert "No processes yet" not in html
    filtered = await app_client.get("/", params={"owner": "nobody@example.com"})
    assert started["title"] not in filtered.text


def response_links_to(html: str, path: str) -> bool:
    return f'href="{path}"' in html


async def test_process_page_shows_steps_and_timeline(app_client: httpx.AsyncClient, today: date) -> None:
    started = await start(app_client, launch_params(today + timedelta(days=30)))
    await wait_until_idle(app_client, started["id"])

    response = await app_client.get(f"/processes/{started['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = text_of(response.text)
    assert started["title"] in text
    assert "Steps" in text
    for title, status in (("Kickoff", "done"), ("Checklist", "in progress"), ("Go / no-go", "not started")):
        assert f"{title} {status}" in text
    assert "Timeline" in text
    assert "1 " in text and "started" in text
    assert "issue created" in text
    assert "Release plan and date check" in text


async def test_process_page_of_an_unknown_process_is_404(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/processes/launch-nothing-here-2030-01-01")

    assert response.status_code == 404
    assert "Not found" in response.text


async def test_outbox_page_shows_entries(app_client: httpx.AsyncClient, today: date) -> None:
    started = await start(app_client, launch_params(today + timedelta(days=30)))
    await wait_until_idle(app_client, started["id"])
    entries = (await app_client.get("/api/outbox", params={"process": started["id"]})).json()
    assert entries

    response = await app_client.get("/outbox")

    assert response.status_code == 200
    text = text_of(response.text)
    for entry in entries:
        assert entry["subject"] in text
    assert started["params"]["product"] in text
    only = await app_client.get("/outbox", params={"process": "launch-nothing-here-2030-01-01"})
    assert "Nothing yet." in text_of(only.text)


async def test_outbox_api_lists_entries_oldest_first(app_client: httpx.AsyncClient, today: date) -> None:
    started = await start(app_client, launch_params(today + timedelta(days=30)))
    await wait_until_idle(app_client, started["id"])

    entries = (await app_client.get("/api/outbox", params={"process": started["id"]})).json()

    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    assert {e["channel"] for e in entries} == {"tracker", "chat", "email"}
    assert all(e["process"] == started["id"] for e in entries)
    assert all({"id", "process", "channel", "to", "subject", "body", "at"} <= set(e) for e in entries)
    assert (await app_client.get("/api/outbox", params={"process": "launch-nothing-here-2030-01-01"})).json() == []


async def test_healthz_says_ok(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "temporal": "ok", "database": "ok"}


async def test_openapi_lists_the_api(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"get", "post"} <= set(paths["/api/processes"])
    assert "get" in paths["/api/processes/{process_id}"]
    assert "post" in paths["/api/processes/{process_id}/cancel"]
    assert "get" in paths["/api/outbox"]
    assert {"get", "post"} <= set(paths["/approve/{token}"])


async def test_metrics_are_prometheus_text(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# HELP" in response.text
    assert "# TYPE" in response.text
