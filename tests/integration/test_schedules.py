"""Recurring processes through the HTTP API and the page, on a real Temporal dev server (the time-skipping test
server has no schedules): a schedule made, triggered and seen starting a normal process dated by its run, the
same run twice starting one process, a run refused at run time, bad parameters refused when it is made, and who
may do what (the maker, another member, an admin, a viewer).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from activities.schedules import ScheduleActivities
from api.auth import Authenticator
from api.schedules import ScheduledStarts
from api.service import Processes
from api.tokens import ApprovalLinks, ApprovalTokens
from config.templates import PROCESSES, load_template
from domain.access import Role
from domain.ids import process_id
from domain.kinds import ProcessTemplate
from domain.schedules import trail_of
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.people import People
from integrations.store import Store
from tests.api.conftest import bearer, client_of
from tests.api.helpers import eventually
from tests.conftest import PUBLIC_URL, SECRET, SERVER_STARTUP, Stack
from workers.temporal import activity_methods, build_worker, find_binary

CREATOR, OTHER, ADMIN, VIEWER = "pm@example.com", "other@example.com", "admin@example.com", "viewer@example.com"


class World:
    """The dev server, a worker serving processes and schedules' runs, and the app's clients."""

    def __init__(self, stack: Stack, templates: Path) -> None:
        self.stack = stack
        self.templates = templates

    @property
    def client(self) -> Client:
        return self.stack.client

    def template(self, name: str, kind: str) -> ProcessTemplate:
        return load_template(name, kind, folders=[self.templates])

    def who(self, email: str, role: Role = Role.MEMBER) -> dict[str, str]:
        return bearer(self.stack, email, role)


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    data, templates = tmp_path_factory.mktemp("schedules"), tmp_path_factory.mktemp("templates")
    shutil.copy(PROCESSES / "launch.yaml", templates / "monthly-launch.yaml")
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        ui=False,
        dev_server_startup_timeout=SERVER_STARTUP,
    ) as env:
        store = Store.connect(f"sqlite:///{data / 'signoff.db'}")
        task_queue = f"tq-{uuid.uuid4()}"
        stack = Stack(env, env.client, task_queue, store, ApprovalTokens(SECRET))
        world = World(stack, templates)
        links, renderer, mailer = ApprovalLinks(stack.tokens, PUBLIC_URL), TemplateRenderer(), OutboxMailer(store)
        creators = Authenticator(People(store.engine))  # (a run checks its creator's role, as the worker does)
        starts = ScheduledStarts(Processes(env.client, task_queue, world.template), store, creators.role_of)
        runs = ScheduleActivities(starts, store, mailer, renderer, f"{PUBLIC_URL}/schedules")
        activities = activity_methods(
            TrackerActivities(OutboxTracker(store, PUBLIC_URL)),
            MailActivities(mailer, renderer, links),
            ChatActivities(OutboxChat(store), renderer, links),
            AuditActivities(store),
        )
        async with build_worker(env.client, task_queue, [*activities, runs.start_run, runs.tell_run_refused]):
            yield world


@pytest.fixture(scope="module")
def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
async def api(world: World, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the production rules: each request proves who it is with a token."""
    processes = Processes(world.client, world.stack.task_queue, world.template, today=lambda: today)
    auth = Authenticator(People(world.stack.store.engine))
    async with client_of(world.stack, today, processes=processes, auth=auth) as client:
        yield client


def release(**params: Any) -> dict[str, Any]:
    """A monthly release's parameters: launched two weeks after each run; its owner left out (the caller)."""
    given: dict[str, Any] = {
        "product": f"Release {uuid.uuid4().hex[:6]}",
        "launch_date": "+14d",
        "approvers": ["vp@example.com"],
        "owners": {"docs": "docs@example.com"},
    }
    return given | params


async def make(api: httpx.AsyncClient, world: World, **body: Any) -> dict[str, Any]:
    """A schedule made by `CREATOR`, a member: its view."""
    answer = await api.post(
        "/api/schedules",
        json={"kind": "launch", "every": "1mo", "params": release()} | body,
        headers=world.who(CREATOR),
    )
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


async def told(world: World, name: str) -> list[Any]:
    """The emails of schedule `name`'s trail, once there is one (a refused run records itself, then tells)."""

    async def sent() -> list[Any] | None:
        return world.stack.store.outbox(trail_of(name)) or None

    found: list[Any] = await eventually(sent, "the refusal's email", 30)
    return found


async def last_action(api: httpx.AsyncClient, world: World, name: str, action: str) -> dict[str, Any] | None:
    view = (await api.get(f"/api/schedules/{name}", headers=world.who(VIEWER, Role.VIEWER))).json()
    found = [event for event in view["trail"] if event["action"] == action]
    return found[-1] if found else None


async def test_a_triggered_schedule_starts_a_process_dated_by_its_run(
    api: httpx.AsyncClient, world: World, today: date
) -> None:
    made = await make(api, world)
    name, product = made["name"], made["params"]["product"]
    expected = process_id("launch", product, (today + timedelta(days=14)).isoformat())
    handle = world.client.get_schedule_handle(name)

    await handle.trigger()
    started = await eventually(lambda: last_action(api, world, name, "run_started"), "the run's process", 30)

    assert name == process_id("launch", product)
    assert made["params"]["launch_date"] == "+14d" and made["params"]["owner"] == CREATOR
    assert made["when"] == "every month" and made["paused"] is False and len(made["next_runs"]) >= 1
    assert started["details"]["process"] == expected
    process = (await api.get(f"/api/processes/{expected}", headers=world.who(VIEWER, Role.VIEWER))).json()
    assert process["params"]["launch_date"] == (today + timedelta(days=14)).isoformat()
    assert process["owner"] == CREATOR and process["status"] in ("running", "waiting")
    listed = (await api.get("/api/schedules", headers=world.who(VIEWER, Role.VIEWER))).json()
    [mine] = [s for s in listed if s["name"] == name]
    assert mine["last"]["details"]["process"] == expected

    # The same day's run again (a trigger a second later: another run of the schedule) starts nothing new.
    described = await handle.describe()
    first_run = described.info.recent_actions[-1].action.workflow_id  # type: ignore[attr-defined]
    await eventually(lambda: _done(world, first_run), "the first run")
    await _next_second()
    await handle.trigger()
    found = await eventually(lambda: last_action(api, world, name, "run_found_started"), "the second run", 30)

    assert found["details"]["process"] == expected and found["details"]["run"] != started["details"]["run"]
    launches = [w async for w in world.client.list_workflows(f"WorkflowId = '{expected}'")]
    assert len(launches) == 1


async def _done(world: World, workflow_id: str) -> bool:
    return (await world.client.get_workflow_handle(workflow_id).describe()).close_time is not None


async def _next_second() -> None:
    """A schedule's run is named by its second: wait into the next one."""
    await asyncio.sleep(1.1)


async def test_a_run_refused_at_its_time_is_in_the_trail_on_the_page_and_told(
    api: httpx.AsyncClient, world: World
) -> None:
    template = world.templates / "monthly-launch.yaml"
    copy = world.templates / f"going-{uuid.uuid4().hex[:6]}.yaml"
    shutil.copy(template, copy)
    made = await make(api, world, params=release(template=copy.stem))
    copy.unlink()  # deleted since the schedule was made

    await world.client.get_schedule_handle(made["name"]).trigger()
    refused = await eventually(lambda: last_action(api, world, made["name"], "run_refused"), "the refusal", 30)

    assert copy.stem in refused["details"]["reason"]
    page = (await api.get("/schedules", headers=world.who(CREATOR))).text
    assert "not started" in page and copy.stem in page
    [email] = await told(world, made["name"])
    assert email.to == [CREATOR] and "was not started" in email.subject


async def test_a_demoted_creators_schedule_starts_nothing_and_is_paused(api: httpx.AsyncClient, world: World) -> None:
    leaving = f"leaving-{uuid.uuid4().hex[:6]}@example.com"
    answer = await api.post(
        "/api/schedules", json={"kind": "launch", "every": "1mo", "params": release()}, headers=world.who(leaving)
    )
    assert answer.status_code == 201, answer.text
    name = answer.json()["name"]
    People(world.stack.store.engine).add(leaving, Role.VIEWER, by="admin@example.com")  # demoted since

    await world.client.get_schedule_handle(name).trigger()
    refused = await eventually(lambda: last_action(api, world, name, "run_refused"), "the refusal", 30)

    assert refused["details"]["reason"].startswith(f"{leaving} is a viewer now and may not start processes")
    view = (await api.get(f"/api/schedules/{name}", headers=world.who(ADMIN, Role.ADMIN))).json()
    assert "run_started" not in [event["action"] for event in view["trail"]]
    assert view["paused"] is True and view["note"] == f"paused: {leaving} is a viewer now and may not start processes"
    [email] = await told(world, name)
    assert email.to == [leaving] and "was not started" in email.subject


async def test_bad_parameters_are_refused_when_it_is_made(api: httpx.AsyncClient, world: World, today: date) -> None:
    member = world.who(CREATOR)
    products: list[str] = []

    async def refused(body: dict[str, Any]) -> tuple[list[str], str]:
        body = {"kind": "launch", "every": "1mo"} | body
        products.append(body["params"]["product"])
        answer = await api.post("/api/schedules", json=body, headers=member)
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        if isinstance(detail, str):  # a template that does not load
            return [], detail
        return [".".join(map(str, e["loc"])) for e in detail], " ".join(e["msg"] for e in detail)

    own_approval = await refused({"params": release(approvers=[CREATOR])})
    fixed_date = await refused({"params": release(launch_date=(today + timedelta(days=90)).isoformat())})
    hourly = await refused({"params": release(), "every": None, "cron": "0 * * * *"})
    bad_every = await refused({"params": release(), "every": "5mo"})
    bad_cron = await refused({"params": release(), "every": None, "cron": "every morning"})
    bad_zone = await refused({"params": release(), "time_zone": "Mars/Olympus"})
    both = await refused({"params": release(), "cron": "0 9 1 * *"})
    missing = await refused({"params": release(template="no-such-template")})
    unknown = await api.post("/api/schedules", json={"kind": "nope", "every": "1mo", "params": {}}, headers=member)

    assert own_approval[0] == ["params.approvers"] and "cannot approve their own launch" in own_approval[1]
    assert fixed_date[0] == ["params.launch_date"] and "two runs would start the same process" in fixed_date[1]
    assert hourly[0] == ["params.launch_date"], "runs an hour apart make one process a day"
    assert bad_every[0] == ["every"] and "months that divide a year" in bad_every[1]
    assert bad_cron[0] == ["cron"] and "is not a cron Temporal can run" in bad_cron[1]
    assert bad_zone[0] == ["time_zone"]
    assert both[0] == ["every"]
    assert "no-such-template" in missing[1]
    assert unknown.status_code == 422
    listed = (await api.get("/api/schedules", headers=member)).json()
    assert not [s for s in listed if s["params"].get("product") in products], "a refused schedule is not kept"


async def test_nothing_is_left_of_a_refused_schedule(api: httpx.AsyncClient, world: World) -> None:
    params = release(approvers=[CREATOR])
    answer = await api.post(
        "/api/schedules",
        json={"kind": "launch", "every": "7d", "params": params, "name": "refused-one"},
        headers=world.who(CREATOR),
    )

    assert answer.status_code == 422
    gone = await api.get("/api/schedules/refused-one", headers=world.who(CREATOR))
    assert gone.status_code == 404


async def test_only_its_maker_or_an_admin_changes_a_schedule(api: httpx.AsyncClient, world: World) -> None:
    made = await make(api, world)
    name = made["name"]
    creator, other, admin = world.who(CREATOR), world.who(OTHER), world.who(ADMIN, Role.ADMIN)
    viewer = world.who(VIEWER, Role.VIEWER)

    by_viewer = await api.post("/api/schedules", json={"kind": "launch", "every": "1mo", "params": release()},
                               headers=viewer)  # fmt: skip
    viewer_pauses = await api.post(f"/api/schedules/{name}/pause", json={}, headers=viewer)
    other_pauses = await api.post(f"/api/schedules/{name}/pause", json={"reason": "mine now"}, headers=other)
    other_deletes = await api.delete(f"/api/schedules/{name}", headers=other)
    viewer_reads = await api.get("/api/schedules", headers=viewer)
    paused = await api.post(f"/api/schedules/{name}/pause", json={"reason": "release freeze"}, headers=creator)
    unpaused = await api.post(f"/api/schedules/{name}/unpause", json={}, headers=admin)
    deleted = await api.delete(f"/api/schedules/{name}", headers=creator)
    after = await api.get(f"/api/schedules/{name}", headers=viewer)
    missing = await api.post("/api/schedules/no-such-schedule/pause", json={}, headers=other)

    assert by_viewer.status_code == 403 and viewer_pauses.status_code == 403
    assert viewer_pauses.json()["detail"] == "this needs the member role; viewer@example.com is a viewer"
    assert other_pauses.status_code == 403 and other_deletes.status_code == 403
    assert other_pauses.json()["detail"] == f"only the schedule's creator ({CREATOR}) or an admin may"
    assert viewer_reads.status_code == 200 and name in [s["name"] for s in viewer_reads.json()]
    assert paused.status_code == 200 and paused.json()["paused"] and paused.json()["note"] == "release freeze"
    assert unpaused.status_code == 200 and not unpaused.json()["paused"]
    assert deleted.status_code == 204 and after.status_code == 404
    assert missing.status_code == 404
    trail = list(world.stack.store.trail(trail_of(name)))
    assert [(e.action, e.actor.split(" ")[0]) for e in trail] == [
        ("schedule_created", CREATOR),
        ("schedule_paused", CREATOR),
        ("schedule_unpaused", ADMIN),
        ("schedule_deleted", CREATOR),
    ]


async def test_the_page_lists_and_its_forms_change_a_schedule(api: httpx.AsyncClient, world: World) -> None:
    made = await make(api, world)
    name = made["name"]
    creator, other = world.who(CREATOR), world.who(OTHER)
    for _ in range(50):  # Temporal's list of schedules lags a create by about a second
        if f'id="schedule-{name}"' in (await api.get("/schedules", headers=creator)).text:
            break
        await asyncio.sleep(0.2)

    as_other = (await api.get("/schedules", headers=other)).text
    as_creator = (await api.get("/schedules", headers=creator)).text
    cross_site = await api.post(
        f"/schedules/{name}/pause", data={"reason": "x"}, headers=creator | {"Sec-Fetch-Site": "cross-site"}
    )
    paused = await api.post(f"/schedules/{name}/pause", data={"reason": "holidays"}, headers=creator)
    page = (await api.get("/schedules", headers=creator)).text
    deleted = await api.post(f"/schedules/{name}/delete", headers=creator, follow_redirects=True)

    assert f'action="/schedules/{name}/pause"' in as_creator and f'action="/schedules/{name}/pause"' not in as_other
    assert f'id="schedule-{name}"' in as_other  # everyone sees it
    assert cross_site.status_code == 403
    assert paused.status_code == 303 and paused.headers["location"] == "/schedules"
    assert f"{name} is paused" in page and "holidays" in page and f'action="/schedules/{name}/unpause"' in page
    assert deleted.status_code == 200 and f"{name} is deleted" in deleted.text
    assert f'id="schedule-{name}"' not in deleted.text
    assert '<a href="/schedules">Schedules</a>' in page
