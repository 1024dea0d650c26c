"""A start's ``backups`` (an approver's own backup) over real HTTP: every wrong entry named at once, a 422 naming
the field, nothing started; a good one kept in the process's parameters. And the template side: a gate's backup
named by role, refused where it cannot resolve (`domain.backups`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from api.starts import ParamsError, prepare_start
from config.templates import load_template
from domain.templates import CommsTemplate, LaunchTemplate
from tests.api.helpers import OWNER, launch_params
from tests.api.test_comms import comms_params
from tests.api.test_start import refused

VP, LEGAL = "vp@example.com", "legal@example.com"


async def test_every_wrong_backup_is_named_at_once_and_nothing_starts(
    app_client: httpx.AsyncClient, today: date
) -> None:
    backups = {
        "cfo@example.com": "deputy@example.com",  # not an approver
        VP: LEGAL,  # another approver: one person, one decision
        LEGAL: OWNER,  # the owner may not decide their own launch
    }
    params = launch_params(today + timedelta(days=30), backups=backups)

    detail = await refused(app_client, params)

    assert [e["loc"] for e in detail] == [["params", "backups"]] * 3
    messages = [e["msg"] for e in detail]
    assert messages == [
        f"cfo@example.com is not one of the approvers ({VP} and {LEGAL}): only an approver has a backup",
        f"{LEGAL}, named as {VP}'s backup, is one of the approvers already: one person, one decision",
        f"{OWNER}, named as {LEGAL}'s backup: the owner {OWNER} cannot decide their own launch",
    ]


async def test_a_backup_of_their_own_and_a_malformed_address_are_refused_with_the_other_fields(
    app_client: httpx.AsyncClient, today: date
) -> None:
    params = launch_params(today - timedelta(days=1), backups={VP: VP, LEGAL: "not-an-address"})

    detail = await refused(app_client, params)

    fields = {tuple(e["loc"][:2]) for e in detail}
    assert ("params", "backups") in fields and ("params", "launch_date") in fields, detail


async def test_a_good_backup_is_kept_in_the_processs_parameters(app_client: httpx.AsyncClient, today: date) -> None:
    params = launch_params(today + timedelta(days=30), backups={LEGAL: "Deputy@Example.com"})

    response = await app_client.post("/api/processes", json={"kind": "launch", "params": params})

    assert response.status_code == 201, response.text
    assert response.json()["params"]["backups"] == {LEGAL: "deputy@example.com"}


async def test_a_messages_backups_name_its_reviewers(app_client: httpx.AsyncClient) -> None:
    params = comms_params(backups={"vp@example.com": "deputy@example.com"})

    response = await app_client.post("/api/processes", json={"kind": "comms", "params": params})

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["params", "backups"]
    assert error["msg"].startswith("vp@example.com is not one of the reviewers (")


# ---- a gate's backup by role -------------------------------------------------------------


def _launch_template(**gate: Any) -> LaunchTemplate:
    template = load_template("launch", "launch")
    assert isinstance(template, LaunchTemplate)
    return template.model_copy(update={"gate": template.gate.model_copy(update=gate)})


def _prepare(template: LaunchTemplate, today: date, **changes: Any) -> Any:
    def templates(name: str, kind: str) -> Any:
        return template if kind == "launch" else load_template(name, kind)

    return prepare_start("launch", launch_params(today + timedelta(days=30), **changes), OWNER, templates, today)


def test_a_role_nobody_is_named_for_is_refused_naming_owners() -> None:
    today = date.today()
    template = _launch_template(backup_role="security")

    with pytest.raises(ParamsError) as refusal:
        _prepare(template, today)

    [error] = refusal.value.errors
    assert error["loc"] == ["params", "owners"]
    assert "names the security role as Go / no-go's backup, but owners names nobody for security" in error["msg"]
    assert f"it would fall to the owner {OWNER}, who cannot decide Go / no-go" in error["msg"]


def test_a_role_falls_back_to_the_templates_address_when_nobody_is_named() -> None:
    today = date.today()
    template = _launch_template(backup_role="security", backup="standby@example.com")

    named, _ = _prepare(template, today, owners={"security": "sec@example.com"})
    fallen_back, _ = _prepare(template, today)

    assert named.template.gate.backup == "sec@example.com"
    assert fallen_back.template.gate.backup == "standby@example.com"


def test_a_templates_backup_role_must_be_one_of_its_roles_and_a_review_takes_none() -> None:
    launch = load_template("launch", "launch").model_dump()
    comms = load_template("comms", "comms").model_dump()

    with pytest.raises(ValueError, match=r"gate\.backup_role: no role 'suport' among the template's items"):
        LaunchTemplate.model_validate(launch | {"gate": launch["gate"] | {"backup_role": "suport"}})
    with pytest.raises(ValueError, match="a review's people have no roles to name a backup by"):
        CommsTemplate.model_validate(comms | {"review": comms["review"] | {"backup_role": "legal"}})
