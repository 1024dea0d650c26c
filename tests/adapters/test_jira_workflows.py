"""JiraTracker moving issues through project workflows as teams run them, through the real ``jira`` client.

The fake Jira's projects run the workflows of `tests.adapters.fake_jira.WORKFLOWS`:
``three-step`` (To Do → In Progress → Done, nothing direct), ``review`` (Done
only after review, a Won't Do status for dropped work), ``gated`` (no way to
Done for this user) and ``simple`` (straight to Done).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pytest

from domain.errors import Refused, Unavailable
from domain.requests import IssueRequest, TransitionRequest
from integrations.jira import JiraTracker, comment_tag
from integrations.jira_workflow import MAX_MOVES, Walk
from tests.adapters.fake_jira import API, FakeJira

MARKER = "launch-x:transition:OPS-1:Done"
NOTE = "Closed as won't do; the resolution could not be set to won't do"


@pytest.fixture(params=["cloud", "server"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def running(flavour: str, workflow: str, **options: Any) -> FakeJira:
    """A fake Jira whose project OPS runs `workflow`."""
    return FakeJira(flavour, workflows={"OPS": workflow}, **options)  # type: ignore[arg-type]


def filed(fake: FakeJira, name: str = "docs") -> tuple[JiraTracker, str]:
    """A tracker on `fake`, and a new OPS issue (in To Do)."""
    jira = JiraTracker(fake.url, fake.user, fake.token, timeout=5)
    request = IssueRequest(
        process_id="launch-x", marker=f"launch-x:item:{name}", project="OPS", issue_type="Task", summary=name
    )
    return jira, jira.create_issue(request).key


def close(key: str, comment: str = "", resolution: Literal["done", "wont_do"] = "done") -> TransitionRequest:
    return TransitionRequest(
        process_id="launch-x", marker=MARKER, issue_key=key, status="Done", comment=comment, resolution=resolution
    )


def status(fake: FakeJira, key: str) -> str:
    return str(fake.issues[key]["fields"]["status"]["name"])


def resolution(fake: FakeJira, key: str) -> str | None:
    value = fake.issues[key]["fields"]["resolution"]
    return str(value["name"]) if value else None


def moves(fake: FakeJira, key: str) -> list[str]:
    """The ids of the transitions posted for `key`, in order."""
    return [str(r.body["transition"]["id"]) for r in fake.seen("POST", f"{API}/issue/{key}/transitions")]


def comments(fake: FakeJira, key: str) -> list[str]:
    return [str(c["body"]) for c in fake.comments[key]]


@pytest.fixture
def three_step(flavour: str) -> Iterator[FakeJira]:
    with running(flavour, "three-step") as fake:
        yield fake


# ---- reaching the status ---------------------------------------------------------


def test_closes_from_to_do_through_in_progress_and_comments_before_the_last_move(three_step: FakeJira) -> None:
    jira, key = filed(three_step)

    jira.transition_issue(close(key, comment="Launched."))

    assert status(three_step, key) == "Done"
    assert moves(three_step, key) == ["11", "31"]  # Start Progress, then Done
    assert comments(three_step, key) == [f"Launched.\n\n{comment_tag(MARKER)}"]
    order = [(r.method, r.path.rsplit("/", 1)[-1]) for r in three_step.received if r.method == "POST"]
    assert order[-3:] == [("POST", "transitions"), ("POST", "comment"), ("POST", "transitions")]
    (first, *_) = three_step.seen("GET", f"{API}/issue/{key}/transitions")
    assert first.query["expand"] == ["transitions.fields"]


def test_an_issue_in_a_done_status_is_left_where_it_is(flavour: str) -> None:
    with running(flavour, "review") as fake:
        jira, key = filed(fake)
        jira.transition_issue(close(key))
        posted = len(fake.received)
        jira.transition_issue(close(key))  # in Done already: no move at all
        assert [r.method for r in fake.received[posted:]] == ["GET"]

        _, dropped = filed(fake, "dropped")
        fake.issues[dropped]["fields"]["status"] = fake.issues[dropped]["fields"]["status"] | {
            "name": "Won't Do",
            "statusCategory": {"key": "done", "name": "Done"},
        }
        jira.transition_issue(close(dropped, comment="Launched."))  # the team closed it their way: it stays so
        assert status(fake, dropped) == "Won't Do" and moves(fake, dropped) == []
        assert len(comments(fake, dropped)) == 1


def test_a_retry_after_a_partial_walk_goes_on_from_where_the_issue_is(three_step: FakeJira) -> None:
    jira, key = filed(three_step)
    three_step.drop_after("POST", f"{API}/issue/{key}/transitions")  # To Do → In Progress happens; no answer

    with pytest.raises(Unavailable):
        jira.transition_issue(close(key, comment="Launched."))
    assert status(three_step, key) == "In Progress" and comments(three_step, key) == []

    jira.transition_issue(close(key, comment="Launched."))  # Temporal's retry

    assert status(three_step, key) == "Done"
    assert moves(three_step, key) == ["11", "31"]
    assert len(comments(three_step, key)) == 1


def test_a_review_workflow_is_walked_through_review_and_dropped_work_goes_to_wont_do(flavour: str) -> None:
    with running(flavour, "review") as fake:
        jira, key = filed(fake)
        _, dropped = filed(fake, "dropped")

        jira.transition_issue(close(key))
        jira.transition_issue(close(dropped, resolution="wont_do"))

        assert status(fake, key) == "Done" and moves(fake, key) == ["11", "61", "31"]
        assert status(fake, dropped) == "Won't Do" and moves(fake, dropped) == ["51"]


def test_no_way_to_the_status_is_refused_with_a_sentence(flavour: str) -> None:
    with running(flavour, "gated") as fake:
        jira, key = filed(fake)

        with pytest.raises(Refused) as refused:
            jira.transition_issue(close(key, comment="Launched."))

        assert str(refused.value) == (
            f"{key} cannot move from 'In Progress' to 'Done' (signoff moved it To Do → In Progress → Blocked → "
            "In Progress on the way); its transitions: Stop Progress (→ To Do), Block (→ Blocked)"
        )
        assert comments(fake, key) == []  # nothing said about a close that did not happen


def test_a_walk_stops_after_max_moves() -> None:
    def lateral(n: int) -> dict[str, Any]:
        return {"id": str(n), "name": f"Next {n}", "to": {"name": f"Step {n}", "statusCategory": {"key": "new"}}}

    walk = Walk("OPS-1", "Done", {"name": "To Do", "statusCategory": {"key": "new"}}, "done")
    for n in range(MAX_MOVES):
        walk.moved(walk.choose([lateral(n)]))

    with pytest.raises(Refused, match=rf"OPS-1 cannot move from 'Step 9' to 'Done' within {MAX_MOVES} moves"):
        walk.choose([lateral(MAX_MOVES)])


# ---- won't do ------------------------------------------------------------------------


def test_wont_do_sets_the_wont_do_resolution_where_the_screen_takes_it(flavour: str) -> None:
    with running(flavour, "three-step", resolution_screen=True) as fake:
        jira, key = filed(fake)
        _, other = filed(fake, "other")

        jira.transition_issue(close(key, comment="Launch cancelled.", resolution="wont_do"))
        jira.transition_issue(close(other, resolution="wont_do"))

        assert (status(fake, key), resolution(fake, key)) == ("Done", "Won't Do")
        last = fake.seen("POST", f"{API}/issue/{key}/transitions")[-1]
        assert last.body["fields"] == {"resolution": {"id": "10001"}}
        assert comments(fake, key) == [f"Launch cancelled.\n\n{comment_tag(MARKER)}"]
        assert resolution(fake, other) == "Won't Do" and comments(fake, other) == []
        assert len(fake.seen("GET", f"{API}/resolution")) == 1  # read once per adapter


def test_wont_fix_with_a_curly_apostrophe_counts_as_wont_do(flavour: str) -> None:
    resolutions = ("Fixed", "Won\u2019t Fix", "Duplicate")
    with running(flavour, "three-step", resolution_screen=True, resolutions=resolutions) as fake:
        jira, key = filed(fake)

        jira.transition_issue(close(key, resolution="wont_do"))

        assert resolution(fake, key) == "Won\u2019t Fix"


def test_done_work_keeps_jiras_default_resolution(flavour: str) -> None:
    with running(flavour, "three-step", resolution_screen=True) as fake:
        jira, key = filed(fake)

        jira.transition_issue(close(key))

        assert resolution(fake, key) == "Done"
        assert fake.seen("POST", f"{API}/issue/{key}/transitions")[-1].body["fields"] == {}
        assert fake.seen("GET", f"{API}/resolution") == []


def test_wont_do_without_such_a_resolution_closes_and_says_why(flavour: str) -> None:
    with running(flavour, "three-step", resolution_screen=True, resolutions=("Done", "Duplicate")) as fake:
        jira, key = filed(fake)

        jira.transition_issue(close(key, comment="Launch cancelled.", resolution="wont_do"))

        assert (status(fake, key), resolution(fake, key)) == ("Done", "Done")
        [comment] = comments(fake, key)
        assert comment.startswith(f"Launch cancelled.\n\n{NOTE}: this Jira has no resolution named Won't Do,")
        assert comment.endswith(comment_tag(MARKER))


def test_wont_do_through_a_transition_without_a_screen_closes_and_says_why(flavour: str) -> None:
    with running(flavour, "three-step") as fake:
        jira, key = filed(fake)

        jira.transition_issue(close(key, resolution="wont_do"))
        jira.transition_issue(close(key, resolution="wont_do"))  # a retry: the note is not added twice

        assert status(fake, key) == "Done"
        assert comments(fake, key) == [
            f"{NOTE}: the 'Done' transition's screen has no Resolution field.\n\n{comment_tag(MARKER)}"
        ]
        assert fake.seen("GET", f"{API}/resolution") == []
