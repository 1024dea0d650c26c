"""Message templates render with the facts the workflow gives them."""

from __future__ import annotations

import jinja2
import pytest

from integrations.messages import MESSAGES, TemplateRenderer
from tests.unit.message_contexts import BASE, CHAT_CONTEXTS, ITEMS, KEY_FACT
from tests.unit.message_contexts import CONTEXTS as EMAIL_CONTEXTS

CONTEXTS = EMAIL_CONTEXTS | CHAT_CONTEXTS

TEMPLATES = sorted(p.stem for p in MESSAGES.glob("*.txt") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def test_every_template_has_a_context_here() -> None:
    assert set(TEMPLATES) == set(CONTEXTS)


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_renders_a_subject_and_a_body(renderer: TemplateRenderer, template: str) -> None:
    rendered = renderer.render(template, BASE | CONTEXTS[template])
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert not rendered.subject.startswith("Subject:")
    assert rendered.text.strip()
    assert rendered.text.endswith("\n")
    key_fact = str((BASE | CONTEXTS[template])[KEY_FACT.get(template, "product")])
    assert key_fact in rendered.subject + rendered.text


@pytest.mark.parametrize("template", TEMPLATES)
def test_missing_variable_raises(renderer: TemplateRenderer, template: str) -> None:
    context = BASE | CONTEXTS[template]
    del context[KEY_FACT.get(template, "product")]
    with pytest.raises(jinja2.UndefinedError):
        renderer.render(template, context)


def test_missing_item_field_raises(renderer: TemplateRenderer) -> None:
    items = [{"title": "Release notes", "owner": "docs@example.com"}]  # no `due`
    with pytest.raises(jinja2.UndefinedError):
        renderer.render("reminder", BASE | {"items": items})


def test_email_body_links_to_the_process(renderer: TemplateRenderer) -> None:
    rendered = renderer.render("announcement", BASE)
    assert rendered.subject == "Acme Analytics 2.0 is launched"
    assert BASE["process_url"] in rendered.text


def test_item_lists_show_issue_keys_when_there_are_some(renderer: TemplateRenderer) -> None:
    text = renderer.render("reminder", BASE | {"items": ITEMS}).text
    assert "- Product documentation — due 2026-12-05 (LAUNCH-6)" in text
    assert "- Release notes — due 2026-12-08\n" in text


def test_reminder_subject_counts_items(renderer: TemplateRenderer) -> None:
    assert renderer.render("reminder", BASE | {"items": ITEMS}).subject.startswith("Reminder: 2 launch items ")
    assert renderer.render("reminder", BASE | {"items": ITEMS[:1]}).subject.startswith("Reminder: 1 launch item ")


def test_approval_request_reminder_says_so(renderer: TemplateRenderer) -> None:
    context = BASE | CONTEXTS["approval_request"]
    assert not renderer.render("approval_request", context).subject.startswith("Reminder")
    assert renderer.render("approval_request", context | {"reminder": True}).subject.startswith("Reminder: Go / no-go")


def test_approval_request_carries_the_approvers_link(renderer: TemplateRenderer) -> None:
    text = renderer.render("approval_request", BASE | CONTEXTS["approval_request"]).text
    assert "https://signoff.example.com/approve/abc.def" in text
    assert "10 of 12 items done" in text


@pytest.mark.parametrize(
    ("decision", "verb"), [("approve", "approved"), ("reject", "rejected"), ("changes", "asked for changes to")]
)
def test_decision_subject_names_the_decision(renderer: TemplateRenderer, decision: str, verb: str) -> None:
    context = BASE | CONTEXTS["decision"] | {"decision": decision}
    assert renderer.render("decision", context).subject == f"vp@example.com {verb} the launch of Acme Analytics 2.0"


def test_decision_without_comment_leaves_it_out(renderer: TemplateRenderer) -> None:
    text = renderer.render("decision", BASE | CONTEXTS["decision"] | {"comment": ""}).text
    assert "comment" not in text


def test_gate_open_chat_needs_one_approval_in_the_singular(renderer: TemplateRenderer) -> None:
    text = renderer.render("gate_open_chat", BASE | {"approvers": ["vp@example.com"], "required": 1}).text
    assert "(1 approval needed)" in text


def test_settled_chat_request_says_who_decided_what_and_where(renderer: TemplateRenderer) -> None:
    context = BASE | CONTEXTS["approval_settled_chat"]
    assert renderer.render("approval_settled_chat", context).text.startswith(
        ":white_check_mark: You approved the launch of Acme Analytics 2.0 on 2026-12-15, "
        "through your email link, at 2026-12-12 10:04 UTC. Your comment: Go & ship <it>"
    )
    in_slack = renderer.render("approval_settled_chat", context | {"decision": "reject", "via": "slack"}).text
    assert in_slack.startswith(":x: You rejected the launch of Acme Analytics 2.0 on 2026-12-15, in Slack,")


def test_settled_chat_request_without_a_decision_says_the_gate_closed(renderer: TemplateRenderer) -> None:
    context = BASE | CONTEXTS["approval_settled_chat"] | {"decision": None, "gate_status": "rejected"}
    text = renderer.render("approval_settled_chat", context).text
    assert text.startswith(
        ":hourglass: The Go / no-go of the launch of Acme Analytics 2.0 on 2026-12-15 is rejected: no decision"
    )


def test_who_acted_through_a_token_is_named_as_a_person_not_by_their_token(renderer: TemplateRenderer) -> None:
    """The trail keeps which token acted (`domain.access.Caller.actor`); the people told of it see the person."""
    context = BASE | CONTEXTS["changed"] | {"by": "pm@example.com (token release-bot)"}

    rendered = renderer.render("changed", context)

    assert "pm@example.com changed" in rendered.text
    assert "release-bot" not in rendered.text
    assert rendered.html is not None and "release-bot" not in rendered.html
