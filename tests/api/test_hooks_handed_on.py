"""A Jira "done" for an item a launch handed to its retrospective reaches the retrospective, which tracks it now,
not the launch that ended (`api.routes.hooks.tracking_now`)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from domain.requests import process_label
from tests.api.helpers import wait_for_action
from tests.api.test_hooks import issue_event, post
from tests.conftest import Stack
from tests.workflows.helpers import LEGAL, VP, advance_to, decide, finished, gate_open, launch_moment, view_of
from workflows.postmortem import PostmortemWorkflow


async def test_a_done_issue_handed_to_the_retrospective_marks_its_action_item_done(
    app_client: httpx.AsyncClient, stack: Stack
) -> None:
    handle = await stack.start_launch(
        days_ahead=2, retrospective=True, overrides={"open_items_after_launch": "retrospective"}
    )
    await gate_open(handle, stack)
    await decide(handle, VP)
    await decide(handle, LEGAL)
    launched = await finished(handle)
    await wait_for_action(app_client, handle.id, "completed")  # the store's copy of the launch, as it ended
    retro_id = launched.links["retrospective"]
    handed = [item for item in launched.items if item.status == "open"]
    n, docs = next((n, item) for n, item in enumerate(handed, start=1) if item.key == "documentation")
    assert docs.issue_key is not None

    response = await post(app_client, issue_event(docs.issue_key, ["signoff", process_label(handle.id)]), "handed-1")

    assert response.status_code == 200, response.text
    assert response.json()["actions"] == [
        {"rule": "item-done-from-jira", "process": retro_id, "item_done": f"action-{n}"}
    ]
    retro = await stack.client.get_workflow_handle(retro_id).query(PostmortemWorkflow.view)
    status = {item.key: (item.status, item.issue_key, item.done_by) for item in retro.items}
    assert status[f"action-{n}"] == ("done", docs.issue_key, "jira:5b10ac8d82e05b22cc7d4ef5")
    trail = await wait_for_action(app_client, retro_id, "item_done")
    assert [e["details"]["item"] for e in trail if e["action"] == "item_done"] == [f"action-{n}"]


async def test_an_issue_of_a_launch_that_kept_its_items_still_goes_to_the_launch(
    app_client: httpx.AsyncClient, stack: Stack
) -> None:
    """Launched with its items open and still chasing them (`track`, the default): the launch tracks them."""
    handle = await stack.start_launch(days_ahead=2, retrospective=True)
    await gate_open(handle, stack)
    await decide(handle, VP)
    gate = await decide(handle, LEGAL)
    assert gate.status == "approved"
    await advance_to(stack, launch_moment(await view_of(handle)) + timedelta(hours=1))
    await wait_for_action(app_client, handle.id, "launched_with_open_items")
    docs = next(item for item in (await view_of(handle)).items if item.key == "documentation")

    response = await post(app_client, issue_event(docs.issue_key, ["signoff", process_label(handle.id)]), "kept-1")

    assert response.json()["actions"] == [
        {"rule": "item-done-from-jira", "process": handle.id, "item_done": "documentation"}
    ]
