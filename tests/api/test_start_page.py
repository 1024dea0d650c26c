"""`/start`: a process started from the dashboard's form, made from its kind's parameters."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import httpx
import pytest

from api.routes.start_page import form_fields, params_of
from domain.access import Role
from domain.kinds import KINDS
from tests.api.conftest import DEV_USER, bearer
from tests.api.helpers import OWNER, audit, forms_of, text_of, view, wait_for_action, wait_until_idle
from tests.api.test_comms import comms_params
from tests.api.test_eol import eol_params
from tests.api.test_postmortem import postmortem_params
from tests.conftest import PUBLIC_URL, Stack


def test_every_kind_has_a_form_with_its_required_parameters_first() -> None:
    for kind, spec in KINDS.items():
        fields = form_fields(kind)
        required = [n for n in spec.params.model_json_schema()["required"] if n not in spec.params.filled_in]

        assert [f.name for f in fields[: len(required)]] == required, kind
        assert all(f.required for f in fields[: len(required)]) and not any(f.required for f in fields[len(required) :])


def test_typed_lines_become_lists_and_mappings() -> None:
    fields = form_fields("launch")
    typed = {
        "product": " Acme ",
        "approvers": "vp@example.com\r\n\r\n legal@example.com \r\n",
        "owners": "docs = docs@example.com\nsupport=support@example.com",
        "channel": "",
    }

    params, errors = params_of(fields, typed)

    assert errors == {}
    assert params == {
        "product": "Acme",
        "approvers": ["vp@example.com", "legal@example.com"],
        "owners": {"docs": "docs@example.com", "support": "support@example.com"},
    }  # a blank field keeps its default
    assert params_of(form_fields("comms"), {"body": "Hello,\r\n\r\n- one\r\n"}) == ({"body": "Hello,\n\n- one"}, {})
    assert params_of(fields, {"approvers": "a@x.com, b@x.com\nc@x.com"})[0] == {
        "approvers": ["a@x.com", "b@x.com", "c@x.com"]
    }
    assert params_of(fields, {"owners": "docs=a@x.com\nsupport\ndocs=b@x.com"})[1] == {
        "owners": ["line 2: write it as name=email", "line 3: docs is named twice"]
    }


def test_defaults_and_what_the_model_fills_in_show_on_the_form() -> None:
    comms = {f.name: f for f in form_fields("comms")}
    postmortem = {f.name: f for f in form_fields("postmortem")}

    assert comms["channels"].default == "email"  # a default from a factory
    assert not postmortem["owner"].required and "the commander" in postmortem["owner"].hint


async def test_the_page_offers_every_kind_and_labels_every_field(app_client: httpx.AsyncClient) -> None:
    choose = await app_client.get("/start")
    launch = await app_client.get("/start", params={"kind": "launch"})

    assert choose.status_code == 200 and all(f">{k}</option>" in choose.text for k in KINDS)
    assert launch.status_code == 200
    [_, form] = forms_of(launch.text)
    assert form["attrs"]["method"] == "post" and form["attrs"]["action"] == "/start"
    assert {f["name"] for f in form["fields"]} == {"kind", "preview"} | {f.name for f in form_fields("launch")}
    for field in form_fields("launch"):
        assert f'<label for="p-{field.name}">' in launch.text and f'id="p-{field.name}"' in launch.text
    assert 'type="date"' in launch.text and 'value="#launches"' in launch.text
    assert "all, any or a number" in launch.text


async def test_a_launch_started_from_the_form_runs_and_says_who_started_it(
    app_client: httpx.AsyncClient, today: date
) -> None:
    product = f"Formed {uuid.uuid4().hex[:6]}"
    form = {
        "kind": "launch",
        "product": product,
        "launch_date": (today + timedelta(days=30)).isoformat(),
        "owner": OWNER,
        "approvers": "vp@example.com\nlegal@example.com",
        "owners": "docs=docs@example.com",
        "policy": "all",
    }

    response = await app_client.post("/start", data=form, headers={"Origin": PUBLIC_URL})

    assert response.status_code == 303
    pid = response.headers["location"].removeprefix("/processes/")
    assert pid == f"launch-{product.lower().replace(' ', '-')}-{form['launch_date']}"
    started = await view(app_client, pid)
    assert started["params"]["approvers"] == ["vp@example.com", "legal@example.com"]
    assert started["params"]["owners"] == {"docs": "docs@example.com"}
    await wait_until_idle(app_client, pid)
    first = (await audit(app_client, pid))[0]
    assert (first["action"], first["actor"]) == ("started", DEV_USER)  # who submitted the form


async def test_a_refused_field_is_shown_next_to_its_input_with_what_was_typed(
    app_client: httpx.AsyncClient, today: date
) -> None:
    form = {
        "kind": "launch",
        "product": "Half typed",
        "launch_date": (today - timedelta(days=1)).isoformat(),
        "owner": "not an email",
        "approvers": "vp@example.com",
    }

    response = await app_client.post("/start", data=form)

    assert response.status_code == 422
    owner = re.search(r'<input id="p-owner"[^>]*>', response.text)
    beside_owner = re.search(r'id="e-owner">([^<]*)<', response.text)
    assert owner and 'value="not an email"' in owner.group(0) and 'aria-invalid="true"' in owner.group(0)
    assert 'aria-describedby="e-owner"' in owner.group(0), "a screen reader reads the error with the field"
    assert beside_owner and "email address" in beside_owner.group(1), "the error sits under the field it is about"
    assert 'value="Half typed"' in response.text, "what was typed is kept"
    assert all("half-typed" not in row["id"] for row in (await app_client.get("/api/processes")).json())


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),  # a sandboxed frame or a data: page
        ({"Sec-Fetch-Site": "cross-site"}, 403),
    ],
)
async def test_a_form_posted_from_another_site_starts_nothing(
    app_client: httpx.AsyncClient, today: date, headers: dict[str, str], status: int
) -> None:
    form = {"kind": "launch", "product": "Csrf", "launch_date": (today + timedelta(days=30)).isoformat(),
            "owner": OWNER, "approvers": "vp@example.com"}  # fmt: skip

    response = await app_client.post("/start", data=form, headers=headers)

    assert response.status_code == status
    assert all("csrf" not in row["id"] for row in (await app_client.get("/api/processes")).json())


async def test_an_unknown_kind_is_refused_in_a_sentence(app_client: httpx.AsyncClient) -> None:
    shown = await app_client.get("/start", params={"kind": "rocket"})
    posted = await app_client.post("/start", data={"kind": "rocket"})

    for response in (shown, posted):
        assert response.status_code == 422
        assert "unknown process kind 'rocket'" in text_of(response.text)


def typed(value: object) -> str:
    """A parameter as a person types it into the form."""
    if isinstance(value, list):
        return "\n".join(f"{v['email']}:{v['role']}" if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(f"{k}={v}" for k, v in value.items())
    return str(value)


@pytest.mark.parametrize("kind", ["comms", "postmortem", "eol"])
async def test_every_kind_starts_from_its_form(
    app_client: httpx.AsyncClient, now: datetime, today: date, kind: str
) -> None:
    params = {"comms": comms_params(), "postmortem": postmortem_params(now), "eol": eol_params(today)}[kind]

    response = await app_client.post("/start", data={"kind": kind, **{k: typed(v) for k, v in params.items()}})

    assert response.status_code == 303, text_of(response.text)
    pid = response.headers["location"].removeprefix("/processes/")
    await wait_for_action(app_client, pid, "message_sent")
    started = await view(app_client, pid)
    assert started["kind"] == kind
    if kind == "comms":
        assert [r["role"] for r in started["params"]["reviewers"]] == ["Customer Success", "Engineering"]
        assert started["params"]["body"] == params["body"]


async def test_behind_a_proxy_the_public_url_is_this_site(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    """The proxy hands the service its own address; the browser says the public one, in any case, with :80.
    (Behind a proxy there is no dev mode: an admin's credential says who posts.)"""
    form = {"kind": "postmortem", "incident": f"INC-{uuid.uuid4().hex[:6]}", "title": "Proxy", "severity": "SEV2",
            "commander": "ic@example.com", "reviewers": "cto@example.com",
            "resolved_at": f"{today}T08:00:00Z"}  # fmt: skip
    headers = {"Host": "10.0.0.5:8080", "Origin": PUBLIC_URL.upper().replace("HTTP://", "http://") + ":80"}
    headers |= bearer(stack, "admin@example.com", Role.ADMIN)

    response = await app_client.post("/start", data=form, headers=headers)

    assert response.status_code == 303, text_of(response.text)
    pid = response.headers["location"].removeprefix("/processes/")
    await wait_for_action(app_client, pid, "message_sent")
    assert (await view(app_client, pid))["owner"] == "ic@example.com"  # left empty: the commander


async def test_an_unknown_template_is_shown_under_its_field(app_client: httpx.AsyncClient, today: date) -> None:
    form = {"kind": "launch", "product": "Templated", "launch_date": (today + timedelta(days=30)).isoformat(),
            "owner": OWNER, "approvers": "vp@example.com", "template": "no-such-template"}  # fmt: skip

    response = await app_client.post("/start", data=form)

    assert response.status_code == 422
    beside = re.search(r'id="e-template">([^<]*)<', response.text)
    assert beside and "no-such-template" in beside.group(1)
    assert 'value="Templated"' in response.text
