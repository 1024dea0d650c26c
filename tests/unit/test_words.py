"""The words people read (`domain.words`, `integrations.mrkdwn`) and input refused with every problem and the
choices: roles, priorities, an end of life's notice between milestones (issue #14, item 6)."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

import domain.templates
import domain.words
import integrations.mrkdwn
from api.starts import ParamsError, prepare_start
from config.templates import load_template
from domain.comms import CommsParams
from domain.enums import Decision, GateStatus, ProcessStatus, StepStatus
from domain.eol import EolParams
from domain.errors import BadInput, InvalidField, InvalidFields, error_named, refuse_all
from domain.launch import LaunchParams
from domain.postmortem import ActionItemSpec, PostmortemParams
from domain.templates import EolTemplate, LaunchTemplate, MilestoneNotice
from domain.views import ApprovalRecord, GateState
from domain.words import STATUS_LABELS, count, gate_summary, label, plural, received
from integrations.messages import TemplateRenderer
from integrations.mrkdwn import mrkdwn_html
from tests.unit.message_contexts import BASE, CHAT_CONTEXTS, CONTEXTS


@pytest.mark.parametrize("module", [domain.words, integrations.mrkdwn, domain.templates])
def test_the_examples_in_the_docstrings_hold(module: object) -> None:
    failed, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried and not failed


# ---- one table of labels ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "of", "said"),
    [
        (GateStatus.OPEN, None, "waiting for decisions"),
        (GateStatus.CHANGES_REQUESTED, None, "changes requested"),
        (GateStatus.PENDING, None, "not open yet"),
        (ProcessStatus.WAITING, None, "waiting for decisions"),
        (StepStatus.ACTIVE, None, "in progress"),
        (StepStatus.PENDING, None, "not started"),
        (Decision.APPROVE, None, "approved"),
        (Decision.CHANGES, None, "changes requested"),
        ("changes_requested", "gate", "changes requested"),
        ("open", "gate", "waiting for decisions"),
        ("open", "item", "open"),
        ("wont_do", "item", "won't do"),
        ("reject", "decision", "rejected"),
        ("running", "process", "running"),
        ("something_new", "item", "something new"),
        ("something_new", None, "something new"),
    ],
)
def test_a_state_is_said_in_words(value: object, of: str | None, said: str) -> None:
    assert label(value, of) == said


def test_every_state_has_its_words() -> None:
    for enum, table in ((ProcessStatus, "process"), (StepStatus, "step"), (GateStatus, "gate"), (Decision, "decision")):
        assert set(STATUS_LABELS[table]) == {member.value for member in enum}
    assert all("_" not in words for table in STATUS_LABELS.values() for words in table.values())


def test_counts_are_plain_english() -> None:
    assert [count(n, "action item") for n in (0, 1, 2)] == ["0 action items", "1 action item", "2 action items"]
    assert count(1, "person", "people") == "1 person" and count(3, "person", "people") == "3 people"
    assert plural("is", 1, "are") == "is" and plural("is", 2, "are") == "are"
    assert received(1, 2) == "1 of 2 approvals received"
    assert received(0, 1) == "0 of 1 approval received"


def gate(status: GateStatus, *decided: tuple[str, Decision]) -> GateState:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return GateState(
        key="go-no-go",
        title="Go / no-go",
        status=status,
        approvers=["vp@x.io", "legal@x.io"],
        policy="all",
        required=2,
        decisions=[ApprovalRecord(gate="go-no-go", approver=a, decision=d, at=at) for a, d in decided],
    )


def test_a_gate_says_who_it_waits_on_and_what_came() -> None:
    assert gate_summary(gate(GateStatus.OPEN, ("vp@x.io", Decision.APPROVE))) == (
        "waiting on legal@x.io (1 of 2 approvals received)"
    )
    assert gate_summary(gate(GateStatus.APPROVED)) == "approved"
    assert gate_summary(gate(GateStatus.CHANGES_REQUESTED)) == "changes requested"


def test_messages_name_states_and_counts_in_words() -> None:
    renderer = TemplateRenderer()

    text = renderer.render("decision", BASE | CONTEXTS["decision"] | {"gate_status": "open", "approvals": 1}).text
    settled = renderer.render(
        "approval_settled_chat",
        BASE | CHAT_CONTEXTS["approval_settled_chat"] | {"decision": None, "gate_status": "changes_requested"},
    ).text
    one = renderer.render("postmortem_summary_chat", BASE | CHAT_CONTEXTS["postmortem_summary_chat"] | {"done": 1}).text

    assert "decided on the Go / no-go of the launch of Acme Analytics 2.0 on 2026-12-15: changes requested." in text
    assert "The gate is now waiting for decisions (1 of 2 approvals received)." in text
    assert "is changes requested: no decision is needed from you any more" in settled
    assert "closed: 1 action item done." in one


# ---- Slack markup, as Slack shows it ----------------------------------------------------


def test_slack_markup_is_shown_as_slack_shows_it() -> None:
    html = str(mrkdwn_html(":white_check_mark: *Acme 2.0* is _live_, ~late~ `v2` <https://x.io/a|the page> & <@U1>"))

    assert html == (
        "<p>✅ <strong>Acme 2.0</strong> is <em>live</em>, <del>late</del> <code>v2</code> "
        '<a href="https://x.io/a">the page</a> &amp; <span class="mention">@U1</span></p>'
    )


def test_slack_markup_leaves_words_and_links_alone() -> None:
    html = str(mrkdwn_html("launch_date is due: https://x.io/approve/a_b_c*d.\n\n[Approve] https://x.io/approve/t"))

    assert "launch_date" in html and "<em>" not in html and "<strong>" not in html
    assert '<a href="https://x.io/approve/a_b_c*d">https://x.io/approve/a_b_c*d</a>.' in html
    assert '<a class="button" href="https://x.io/approve/t">Approve</a>' in html


def test_slack_markup_never_passes_html_or_scripts_on() -> None:
    html = str(mrkdwn_html("<script>alert(1)</script> <javascript:alert(1)|click> ```<b>x</b>```"))

    assert "<script>" not in html and "<b>" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "<pre>&lt;b&gt;x&lt;/b&gt;</pre>" in html


# ---- every problem at once --------------------------------------------------------------


def test_problems_are_refused_together_each_named() -> None:
    refuse_all([])
    with pytest.raises(InvalidField) as one:
        refuse_all([InvalidField("owner", "not an email")])
    with pytest.raises(InvalidFields) as two:
        refuse_all([InvalidField("owner", "not an email"), InvalidField("approvers", "empty")])

    assert type(one.value) is InvalidField and one.value.each == [one.value]
    assert [(e.field, e.reason) for e in two.value.each] == [("owner", "not an email"), ("approvers", "empty")]
    assert str(two.value) == "owner: not an email; approvers: empty"
    assert type(error_named("InvalidFields", "owner: x")) is BadInput, "across Temporal: its message, as BadInput"


def test_a_comms_and_a_postmortem_say_both_problems_of_their_start() -> None:
    message = CommsParams.model_validate(
        {"subject": "S", "body": "B", "audience": ["a@x.io"], "reviewers": ["pm@x.io:PM"], "owner": "pm@x.io",
         "send_at": "2026-01-01T09:00:00Z"}
    )  # fmt: skip
    postmortem = PostmortemParams.model_validate(
        {"incident": "INC-1", "title": "Down", "commander": "ic@x.io", "reviewers": ["ic@x.io"],
         "resolved_at": "2027-01-01T09:00:00Z"}
    )  # fmt: skip

    for params, fields in ((message, ["send_at", "reviewers"]), (postmortem, ["resolved_at", "reviewers"])):
        with pytest.raises(InvalidField) as refused:
            params.check_start(date(2026, 12, 1))
        assert [e.field for e in refused.value.each] == fields


@pytest.mark.parametrize(
    ("kind", "params", "found"),
    [
        ("launch", {"product": "A", "launch_date": "2026-11-30", "owner": "pm@x.io", "approvers": ["pm@x.io"],
                    "owners": {"dcos": "d@x.io"}, "stakeholders": ["x at x.io"]},
         [("stakeholders", 0), ("launch_date",), ("approvers",), ("owners",)]),
        ("eol", {"product": "Old", "announce_date": "2026-11-30", "end_of_sale": "2026-12-10",
                 "end_of_support": "2027-03-01", "shutdown_date": "2027-06-01", "customers": ["c at x.io"],
                 "migration_guide": "https://x.io/m", "approvers": ["pm@x.io"], "owner": "pm@x.io",
                 "owners": {"biling": "b@x.io"}},
         [("customers", 0), ("announce_date",), ("approvers",), ("end_of_sale",), ("owners",)]),
        ("comms", {"subject": "S", "body": "B", "audience": ["a at x.io"], "reviewers": ["pm@x.io:PM"],
                   "owner": "pm@x.io", "send_at": "2026-01-01T09:00:00"},
         [("audience", 0), ("send_at",), ("reviewers",)]),
        ("postmortem", {"incident": "INC-1", "title": "Down", "commander": "ic@x.io", "reviewers": ["ic@x.io"],
                        "participants": ["p at x.io"], "severity": "SEV9", "resolved_at": "2027-01-01T09:00:00"},
         [("severity",), ("participants", 0), ("resolved_at",), ("reviewers",)]),
        ("launch", {"product": "A", "launch_date": "2026-11-30", "owner": "pm@x.io", "approvers": ["vp@x.io"],
                    "owners": {"dcos": "d@x.io"}, "template": "../no"},
         [("template",), ("launch_date",)]),  # no template read: none of its checks
    ],
    ids=["launch", "eol", "comms", "postmortem", "unread-template"],
)  # fmt: skip
def test_a_start_checks_what_did_read_when_a_field_did_not(
    kind: str, params: dict[str, object], found: list[tuple[object, ...]]
) -> None:
    with pytest.raises(ParamsError) as refused:
        prepare_start(kind, params, "pm@x.io", load_template, date(2026, 12, 1))

    assert [tuple(e["loc"][1:]) for e in refused.value.errors] == found


def test_plain_validation_notes_nothing_and_checks_nothing() -> None:
    """A workflow input replayed later validates as it did: the start's checks are not validation's."""
    past = {"product": "A", "launch_date": "2020-01-01", "owner": "pm@x.io", "approvers": ["pm@x.io"],
            "owners": {"dcos": "d@x.io"}}  # fmt: skip

    assert LaunchParams.model_validate(past).launch_date == date(2020, 1, 1)
    with pytest.raises(ValidationError):
        LaunchParams.model_validate(past | {"stakeholders": ["x at x.io"]}, context={"read": None})


# ---- roles, with the template's ---------------------------------------------------------


def test_a_launch_role_not_in_its_template_is_refused_with_the_roles() -> None:
    template = load_template("launch", "launch")
    assert isinstance(template, LaunchTemplate)
    launch = LaunchParams.model_validate(
        {"product": "Acme", "launch_date": "2026-12-15", "owner": "pm@x.io", "approvers": ["pm@x.io"],
         "owners": {"docs": "d@x.io", "suport": "s@x.io"}}
    )  # fmt: skip

    with pytest.raises(InvalidField) as refused:
        launch.check_template(template)

    approvers, owners = refused.value.each
    assert approvers.field == "approvers"
    assert owners.field == "owners" and owners.reason.startswith(
        "no role 'suport' in template 'launch' (did you mean support?); its roles are docs, engineering, finance"
    )
    LaunchParams.model_validate(
        {"product": "Acme", "launch_date": "2026-12-15", "owner": "pm@x.io", "approvers": ["vp@x.io"],
         "owners": {role: "x@x.io" for role in {item.role for item in template.items}}}
    ).check_template(template)  # fmt: skip


# ---- an end of life's notice between milestones ----------------------------------------------


def eol(**dates: date) -> EolParams:
    day = date(2027, 1, 4)
    return EolParams.model_validate(
        {"product": "Old", "announce_date": day, "end_of_sale": day + timedelta(days=30),
         "end_of_support": day + timedelta(days=60), "shutdown_date": day + timedelta(days=120),
         "customers": ["c@x.io"], "migration_guide": "https://x.io/m", "approvers": ["vp@x.io"], "owner": "pm@x.io"}
        | dates
    )  # fmt: skip


def test_the_eol_template_sets_the_notice_between_milestones() -> None:
    template = load_template("eol", "eol")
    assert isinstance(template, EolTemplate)

    assert template.min_notice_days == MilestoneNotice(end_of_sale=30, end_of_support=30, shutdown=30)
    eol().check_template(template)


def test_milestones_too_close_are_refused_naming_both_dates() -> None:
    template = load_template("eol", "eol")
    day = date(2027, 1, 4)

    with pytest.raises(InvalidField) as refused:
        eol(end_of_sale=day, end_of_support=day + timedelta(days=29)).check_template(template)

    sale, support = refused.value.each
    assert (sale.field, sale.reason) == (
        "end_of_sale",
        "2027-01-04 is the same day as announce_date (2027-01-04); template 'eol' gives customers at least "
        "30 days between them: 2027-02-03 or later",
    )
    assert (support.field, support.reason) == (
        "end_of_support",
        "2027-02-02 is only 29 days after end_of_sale (2027-01-04); template 'eol' gives customers at least "
        "30 days between them: 2027-02-03 or later",
    )


def test_a_template_without_a_minimum_takes_milestones_on_one_day() -> None:
    template = load_template("eol", "eol")
    assert isinstance(template, EolTemplate)
    day = date(2027, 1, 4)
    lenient = template.model_copy(update={"min_notice_days": MilestoneNotice()})

    eol(end_of_sale=day, end_of_support=day, shutdown_date=day).check_template(lenient)


def test_an_eol_role_not_in_its_template_is_refused() -> None:
    with pytest.raises(InvalidField) as refused:
        eol(owners={"biling": "b@x.io"}).check_template(load_template("eol", "eol"))

    assert refused.value.field == "owners" and "no role 'biling'" in refused.value.reason


# ---- priorities in Jira's words ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [("P1", "P1"), ("p2", "P2"), ("Highest", "P1"), ("high", "P1"), ("Medium", "P2"), ("LOW", "P3"), ("Lowest", "P3")],
)
def test_an_action_items_priority_takes_jiras_names(given: str, kept: str) -> None:
    assert ActionItemSpec(title="Fix it", owner="sre@x.io", priority=given).priority == kept


def test_an_unknown_priority_says_what_is_taken() -> None:
    with pytest.raises(ValidationError) as refused:
        ActionItemSpec(title="Fix it", owner="sre@x.io", priority="Urgent")

    assert "use P1, P2 or P3, or Jira's Highest, High, Medium, Low or Lowest" in str(refused.value)
