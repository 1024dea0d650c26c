"""JiraTracker through the real ``jira`` client against a fake Jira on loopback.

Most tests run twice, against a Cloud and a Data Center flavour of the fake,
because the two speak different dialects (search endpoint, user ids, epics).
Walking project workflows and won't-do resolutions: `test_jira_workflows`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import date

import pytest

from domain.errors import Refused, Unavailable
from domain.requests import IssueRequest, IssueUpdate, TransitionRequest
from integrations.jira import SEARCH_LAG, JiraTracker, comment_tag, marker_label
from tests.adapters.fake_jira import API, EPIC_LINK, EPIC_NAME, FakeJira

ADA = "ada@acme.test"


@pytest.fixture(params=["cloud", "server"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    """A fake Jira of each flavour, with Ada as a user."""
    with FakeJira(request.param) as server:
        server.add_person(ADA, "Ada Lovelace")
        yield server


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud") as server:
        server.add_person(ADA, "Ada Lovelace")
        yield server


@pytest.fixture
def server() -> Iterator[FakeJira]:
    with FakeJira("server") as jira:
        jira.add_person(ADA, "Ada Lovelace")
        yield jira


def tracker(fake: FakeJira, token: str | None = None) -> JiraTracker:
    return JiraTracker(fake.url, fake.user, token or fake.token, timeout=5)


def issue(marker: str = "launch-x:item:docs", **changes: object) -> IssueRequest:
    fields: dict[str, object] = {
        "process_id": "launch-x",
        "marker": marker,
        "project": "LAUNCH",
        "issue_type": "Task",
        "summary": "Write the docs",
        "description": "Docs for the launch.",
        "assignee": ADA,
        "due": date(2026, 12, 1),
    }
    return IssueRequest.model_validate(fields | changes)


def move(key: str, status: str, comment: str = "", marker: str = "launch-x:close:docs") -> TransitionRequest:
    return TransitionRequest(process_id="launch-x", marker=marker, issue_key=key, status=status, comment=comment)


# ---- creating ---------------------------------------------------------------


def test_creates_an_epic_and_a_child_with_assignee_due_date_labels_and_link(fake: FakeJira) -> None:
    jira = tracker(fake)
    epic = jira.create_issue(issue("launch-x:epic", issue_type="Epic", summary="Launch X", due=None))
    child = jira.create_issue(issue(parent=epic.key))

    assert child.url == f"{fake.url}/browse/{child.key}"
    fields = fake.issues[child.key]["fields"]
    assert fields["labels"] == [marker_label("launch-x:item:docs"), "signoff"]
    assert fields["duedate"] == "2026-12-01"
    assert fields["assignee"]["emailAddress"] == ADA
    assert fields["summary"] == "Write the docs" and fields["description"] == "Docs for the launch."
    if fake.cloud:
        assert fields["parent"]["key"] == epic.key
        assert fields["assignee"]["accountId"].startswith("557058:")
    else:
        assert fields[EPIC_LINK] == epic.key
        assert fake.issues[epic.key]["fields"][EPIC_NAME] == "Launch X"
        assert fields["assignee"]["name"] == "ada"
    # prefetch=False: no GET of the issue just created
    assert fake.seen("GET", f"{API}/issue/{child.key}") == []


def test_the_same_marker_twice_gives_the_same_issue(fake: FakeJira) -> None:
    jira = tracker(fake)
    first = jira.create_issue(issue())
    again = tracker(fake).create_issue(issue())  # a fresh worker, too

    assert again == first
    assert list(fake.issues) == [first.key]
    assert len(fake.seen("POST", f"{API}/issue")) == 1


def test_an_answer_lost_after_the_create_does_not_make_a_second_issue(fake: FakeJira) -> None:
    jira = tracker(fake)
    fake.drop_after("POST", f"{API}/issue")

    with pytest.raises(Unavailable) as lost:
        jira.create_issue(issue())
    assert lost.value.retry_after is not None and lost.value.retry_after >= SEARCH_LAG
    assert len(fake.issues) == 1  # Jira did create it

    ref = jira.create_issue(issue())  # Temporal's retry
    assert [ref.key] == list(fake.issues)
    assert len(fake.seen("POST", f"{API}/issue")) == 1


def test_a_person_jira_does_not_know_is_named_in_the_description(fake: FakeJira) -> None:
    ref = tracker(fake).create_issue(issue(assignee="nobody@acme.test"))

    fields = fake.issues[ref.key]["fields"]
    assert fields["assignee"] is None
    assert fields["description"] == "Docs for the launch.\n\nOwner: nobody@acme.test"


def test_a_person_who_cannot_be_assigned_is_named_in_the_description(fake: FakeJira) -> None:
    fake.add_person("guest@acme.test", "Guest", assignable=False)

    ref = tracker(fake).create_issue(issue(assignee="guest@acme.test"))

    fields = fake.issues[ref.key]["fields"]
    assert fields["assignee"] is None
    assert fields["description"].endswith("Owner: guest@acme.test")
    assert len(fake.issues) == 1


def test_data_center_without_epic_link_creates_the_child_unlinked() -> None:
    with FakeJira("server", epic_link=False) as fake:
        jira = tracker(fake)
        epic = jira.create_issue(issue("launch-x:epic", issue_type="Epic", assignee=None))
        child = jira.create_issue(issue(parent=epic.key, assignee=None))

        assert EPIC_LINK not in fake.issues[child.key]["fields"]
        assert "parent" not in fake.issues[child.key]["fields"]
        assert len(fake.issues) == 2


def test_cloud_searches_with_search_jql_and_names_people_by_account_id(cloud: FakeJira) -> None:
    jira = tracker(cloud)
    ref = jira.create_issue(issue())
    jira.issue_statuses([ref.key])

    assert cloud.seen("GET", f"{API}/search") == []
    assert len(cloud.seen("GET", f"{API}/search/jql")) == 2
    lookups = cloud.seen("GET", f"{API}/user/search")
    assert [r.query.get("query") for r in lookups] == [[ADA]]
    assert all("username" not in r.query for r in lookups)
    (created,) = cloud.seen("POST", f"{API}/issue")
    assert set(created.body["fields"]["assignee"]) == {"accountId"}


def test_data_center_searches_with_search_and_names_people_by_username(server: FakeJira) -> None:
    jira = tracker(server)
    ref = jira.create_issue(issue())
    jira.issue_statuses([ref.key])

    assert server.seen("GET", f"{API}/search/jql") == []
    assert len(server.seen("GET", f"{API}/search")) == 2
    assert [r.query.get("username") for r in server.seen("GET", f"{API}/user/search")] == [[ADA]]
    (created,) = server.seen("POST", f"{API}/issue")
    assert created.body["fields"]["assignee"] == {"name": "ada"}


# ---- errors -----------------------------------------------------------------


def test_a_rate_limit_is_unavailable_with_its_retry_after(cloud: FakeJira) -> None:
    cloud.fail("GET", f"{API}/search/jql", 429, headers={"Retry-After": "17"})

    started = time.monotonic()
    with pytest.raises(Unavailable) as limited:
        tracker(cloud).create_issue(issue())
    assert limited.value.retry_after == 17
    assert time.monotonic() - started < 2  # the library did not sleep and retry on its own
    assert cloud.issues == {}


def test_a_server_error_is_unavailable(fake: FakeJira) -> None:
    jira = tracker(fake)
    key = jira.create_issue(issue()).key
    fake.fail("GET", f"{API}/issue/{key}/transitions", 500, body={"errorMessages": ["Internal server error"]})

    with pytest.raises(Unavailable, match="Internal server error"):
        jira.transition_issue(move(key, "Done"))
    fake.fail("POST", f"{API}/issue", 502, body="<html>Bad gateway</html>")
    with pytest.raises(Unavailable) as failed:
        jira.create_issue(issue("launch-x:item:other"))
    assert failed.value.retry_after == SEARCH_LAG  # a failed create may still have created


def test_a_bad_request_is_refused_with_jiras_words(fake: FakeJira) -> None:
    fake.fail(
        "POST",
        f"{API}/issue",
        400,
        body={"errorMessages": [], "errors": {"customfield_10020": "Sprint is required."}},
    )

    with pytest.raises(Refused) as refused:
        tracker(fake).create_issue(issue())
    message = str(refused.value)
    assert "project LAUNCH" in message and "customfield_10020: Sprint is required." in message
    assert fake.token not in message
    assert refused.value.__cause__ is None  # the library's error (with headers) is not chained


def test_an_unknown_project_is_refused(fake: FakeJira) -> None:
    with pytest.raises(Refused, match=r"project NOPE.*valid project is required"):
        tracker(fake).create_issue(issue(project="NOPE"))


def test_wrong_credentials_are_refused_without_the_token(fake: FakeJira) -> None:
    wrong = "wrong-token-do-not-print-9f8e7d"

    with pytest.raises(Refused) as refused:
        tracker(fake, token=wrong).create_issue(issue())
    message = str(refused.value)
    assert "SIGNOFF_JIRA_TOKEN" in message and fake.user in message
    assert wrong not in message and wrong not in repr(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_a_denied_login_says_why(cloud: FakeJira) -> None:
    cloud.fail("GET", f"{API}/serverInfo", 403, headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE"})

    with pytest.raises(Refused, match="CAPTCHA_CHALLENGE"):
        tracker(cloud).check()


def test_a_dead_server_fails_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    jira = JiraTracker(f"http://127.0.0.1:{port}", "bot@acme.test", "token-abc")

    started = time.monotonic()
    with pytest.raises(Unavailable, match="did not answer"):
        jira.create_issue(issue())
    assert time.monotonic() - started < 5


# ---- moving -------------------------------------------------------------------


def test_moves_by_status_name_and_a_repeat_changes_nothing(fake: FakeJira) -> None:
    jira = tracker(fake)
    key = jira.create_issue(issue()).key

    jira.transition_issue(move(key, "in progress", comment="Picked up by signoff."))
    jira.transition_issue(move(key, "in progress", comment="Picked up by signoff."))

    assert fake.issues[key]["fields"]["status"]["name"] == "In Progress"
    assert [c["body"] for c in fake.comments[key]] == [f"Picked up by signoff.\n\n{comment_tag('launch-x:close:docs')}"]
    assert len(fake.seen("POST", f"{API}/issue/{key}/transitions")) == 1


def test_moves_by_transition_name_too(fake: FakeJira) -> None:
    jira = tracker(fake)
    key = jira.create_issue(issue()).key

    jira.transition_issue(move(key, "Start Progress"))

    assert fake.issues[key]["fields"]["status"]["name"] == "In Progress"
    assert fake.comments[key] == []


def test_a_retry_after_a_failed_move_does_not_comment_twice(fake: FakeJira) -> None:
    jira = tracker(fake)
    key = jira.create_issue(issue()).key
    fake.fail("POST", f"{API}/issue/{key}/transitions", 503, headers={"Retry-After": "3"})

    with pytest.raises(Unavailable) as failed:
        jira.transition_issue(move(key, "Done", comment="Closed by signoff."))
    assert failed.value.retry_after == 3
    jira.transition_issue(move(key, "Done", comment="Closed by signoff."))

    assert fake.issues[key]["fields"]["status"]["name"] == "Done"
    assert len(fake.comments[key]) == 1


def test_moving_an_issue_that_does_not_exist_is_refused(fake: FakeJira) -> None:
    with pytest.raises(Refused, match=r"LAUNCH-404.*not found"):
        tracker(fake).transition_issue(move("LAUNCH-404", "Done"))


# ---- updating (an item reassigned, a launch moved) -------------------------------------


def reassign(key: str, **changes: object) -> IssueUpdate:
    fields: dict[str, object] = {
        "process_id": "launch-x", "issue_key": key, "marker": "launch-x:edit-1:docs",
        "comment": "Reassigned by pm@acme.test: Ada is on leave.",
    }  # fmt: skip
    return IssueUpdate.model_validate(fields | changes)


def test_an_update_sets_the_assignee_and_the_due_date_and_a_repeat_comments_once(fake: FakeJira) -> None:
    fake.add_person("bob@acme.test", "Bob")
    jira = tracker(fake)
    key = jira.create_issue(issue()).key

    jira.update_issue(reassign(key, assignee="bob@acme.test", due=date(2026, 12, 8)))
    jira.update_issue(reassign(key, assignee="bob@acme.test", due=date(2026, 12, 8)))  # Temporal's retry

    fields = fake.issues[key]["fields"]
    assert fields["assignee"]["emailAddress"] == "bob@acme.test"
    assert fields["duedate"] == "2026-12-08"
    assert [c["body"] for c in fake.comments[key]] == [
        f"Reassigned by pm@acme.test: Ada is on leave.\n\n{comment_tag('launch-x:edit-1:docs')}"
    ]


def test_an_update_of_the_due_date_alone_leaves_the_assignee(fake: FakeJira) -> None:
    jira = tracker(fake)
    key = jira.create_issue(issue()).key

    jira.update_issue(reassign(key, due=date(2026, 12, 15), comment=""))

    fields = fake.issues[key]["fields"]
    assert fields["duedate"] == "2026-12-15" and fields["assignee"]["emailAddress"] == ADA
    assert fake.comments[key] == []


def test_a_new_owner_jira_cannot_assign_is_named_in_a_comment(fake: FakeJira) -> None:
    fake.add_person("guest@acme.test", "Guest", assignable=False)
    jira = tracker(fake)
    key = jira.create_issue(issue()).key

    jira.update_issue(reassign(key, assignee="guest@acme.test", due=date(2026, 12, 9)))
    jira.update_issue(reassign(key, assignee="nobody@acme.test", marker="launch-x:edit-2:docs", comment=""))

    fields = fake.issues[key]["fields"]
    assert fields["assignee"]["emailAddress"] == ADA, "left as it was"
    assert fields["duedate"] == "2026-12-09", "the rest of the change is made"
    assert [c["body"].split("\n\n[signoff:")[0] for c in fake.comments[key]] == [
        "Reassigned by pm@acme.test: Ada is on leave.\n\nOwner: guest@acme.test",
        "Owner: nobody@acme.test",
    ]


def test_updating_an_issue_that_does_not_exist_is_refused(fake: FakeJira) -> None:
    with pytest.raises(Refused, match=r"LAUNCH-404"):
        tracker(fake).update_issue(reassign("LAUNCH-404", due=date(2026, 12, 9)))


# ---- reading --------------------------------------------------------------------


def test_issue_statuses_maps_keys_to_status_categories(fake: FakeJira) -> None:
    jira = tracker(fake)
    keys = [jira.create_issue(issue(f"launch-x:item:{n}")).key for n in range(3)]
    jira.transition_issue(move(keys[1], "In Progress"))
    jira.transition_issue(move(keys[2], "Done"))

    statuses = jira.issue_statuses([*keys, "LAUNCH-99"])  # three issues: two pages of two

    assert statuses == {keys[0]: "new", keys[1]: "indeterminate", keys[2]: "done"}
    search = f"{API}/search/jql" if fake.cloud else f"{API}/search"
    assert len(fake.seen("GET", search)) == 3 + 2  # three label look-ups, then two pages


def test_issue_statuses_refuses_what_is_not_a_key(fake: FakeJira) -> None:
    with pytest.raises(Refused, match="not Jira issue keys"):
        tracker(fake).issue_statuses(["LAUNCH-1) OR project = HR AND key in (HR-1"])
    assert fake.received == []
    assert tracker(fake).issue_statuses([]) == {}


def test_check_says_who_and_where(fake: FakeJira) -> None:
    line = tracker(fake).check()

    assert ("Jira Cloud" if fake.cloud else "Jira Server") in line
    assert fake.url in line and f"<{fake.user}>" in line
    assert "\n" not in line
