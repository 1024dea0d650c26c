"""An approval link is its approver's credential; a gate may ask for more, and nobody decides in another's name.

- a gate whose template says ``require_sign_in: true`` shows its page to the
  link alone, but takes the decision only from the approver signed in as
  themselves;
- on any gate, a person signed in as someone else is told whose link it is
  and cannot decide, though they hold it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from api.auth import Authenticator
from api.service import Processes
from config.templates import PROCESSES, load_template
from integrations.people import People
from tests.api.conftest import bearer, client_of
from tests.api.helpers import audit, forms_of, path_of, text_of, wait_for_action
from tests.api.test_comms import CS, ENG, comms_params, review_links
from tests.conftest import Stack


@pytest.fixture
async def guarded(stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(stack, today, auth=Authenticator(People(stack.store.engine), sign_in_url="/login")) as app:
        yield app


@pytest.fixture
async def dev_app(stack: Stack, today: date, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Dev mode, with the templates of `tmp_path` (where `message` writes its own)."""
    processes = Processes(
        stack.client, stack.task_queue, lambda name, kind: load_template(name, kind, [tmp_path]), today=lambda: today
    )
    async with client_of(stack, today, processes=processes) as app:
        yield app


async def message(
    app: httpx.AsyncClient, stack: Stack, tmp_path: Path, require_sign_in: bool
) -> tuple[str, dict[str, str]]:
    """A message under review, its template asking reviewers to sign in or not; its review links (`app` is in
    dev mode, so the outbox shows them)."""
    template = yaml.safe_load((PROCESSES / "comms.yaml").read_text())
    template.setdefault("review", {})["require_sign_in"] = require_sign_in
    (tmp_path / "comms-signed.yaml").write_text(yaml.safe_dump(template))
    started = await app.post(
        "/api/processes",
        json={"kind": "comms", "params": comms_params(template="comms-signed")},
    )
    assert started.status_code == 201, started.text
    pid = started.json()["id"]
    return pid, await review_links(app, pid)


async def post_decision(app: httpx.AsyncClient, link: str, form_token: str, **headers: str) -> httpx.Response:
    return await app.post(
        path_of(link), data={"decision": "approve", "comment": "", "form_token": form_token}, headers=headers
    )


def form_token(stack: Stack, link: str) -> str:
    """The confirmation form's token for `link`, as its page would carry it."""
    return stack.tokens.form_token(stack.tokens.read(link.rsplit("/", 1)[1], datetime(2000, 1, 1, tzinfo=UTC)))


async def test_a_gate_that_asks_for_sign_in_takes_the_decision_only_from_its_approver_signed_in(
    guarded: httpx.AsyncClient, dev_app: httpx.AsyncClient, stack: Stack, tmp_path: Path
) -> None:
    pid, links = await message(dev_app, stack, tmp_path, require_sign_in=True)

    page = await guarded.get(path_of(links[CS]))
    link_alone = await post_decision(guarded, links[CS], form_token(stack, links[CS]))
    someone_else = await post_decision(guarded, links[CS], form_token(stack, links[CS]), **bearer(stack, ENG))
    themselves = await post_decision(guarded, links[CS], form_token(stack, links[CS]), **bearer(stack, CS))

    assert page.status_code == 200
    assert not [f for f in forms_of(page.text) if any(x["name"] == "decision" for x in f["fields"])]
    assert f"this decision needs you to sign in as {CS} first" in text_of(page.text)
    assert "/login?next=/approve/" in page.text
    assert link_alone.status_code == 401 and f"needs {CS} to sign in before deciding" in text_of(link_alone.text)
    assert someone_else.status_code == 403
    assert f"this link is {CS}'s; you are signed in as {ENG}" in text_of(someone_else.text)
    assert themselves.status_code == 200, themselves.text
    events = await wait_for_action(dev_app, pid, "decision")
    assert [(e["actor"], e["channel"]) for e in events if e["action"] == "decision"] == [(CS, "link")]


async def test_on_any_gate_someone_signed_in_as_another_cannot_use_a_link(
    guarded: httpx.AsyncClient, dev_app: httpx.AsyncClient, stack: Stack, tmp_path: Path
) -> None:
    pid, links = await message(dev_app, stack, tmp_path, require_sign_in=False)

    page = await guarded.get(path_of(links[CS]), headers=bearer(stack, ENG))
    refused = await post_decision(guarded, links[CS], form_token(stack, links[CS]), **bearer(stack, ENG))
    link_alone = await post_decision(guarded, links[CS], form_token(stack, links[CS]))

    assert f"this link is {CS}'s; you are signed in as {ENG} and cannot decide" in text_of(page.text)
    assert not [f for f in forms_of(page.text) if any(x["name"] == "decision" for x in f["fields"])]
    assert refused.status_code == 403
    assert link_alone.status_code == 200, "one click from the approver's mail app still decides"
    await wait_for_action(dev_app, pid, "decision")
    assert [e["actor"] for e in await audit(dev_app, pid) if e["action"] == "decision"] == [CS]
