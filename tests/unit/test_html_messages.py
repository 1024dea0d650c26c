"""Email's HTML twins say what the text says, with links, escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import jinja2
import pytest

from integrations.messages import MESSAGES, TemplateRenderer
from tests.unit.message_contexts import APPROVAL_URL, BASE, CHAT_CONTEXTS, CONTEXTS, ITEMS

FACTS: dict[str, list[str]] = {
    "announcement": ["Acme Analytics 2.0 launched today, 2026-12-15."],
    "approval_request": [
        "pm@example.com asks for your go / no-go decision on the launch of Acme Analytics 2.0 on 2026-12-15.",
        "10 of 12 items done.",
        "opening it changes nothing",
        "2026-12-22 09:00 UTC",
    ],
    "decision": [
        "vp@example.com decided on the Go / no-go of the launch of Acme Analytics 2.0 on 2026-12-15:",
        "changes requested.",
        "Ship it after the docs land.",
        "The gate is now waiting for decisions (1 of 2 approvals received).",
    ],
    "comms_decision": [
        'cs@example.com (Customer Success) decided on version 2 of "Acme Analytics 2.0: maintenance on',
        "Say when it ends.",
        "The review waits for a new version: post it (POST /api/processes/comms-acme-analytics-2-0-maintenance-"
        "on-sunday-2026-12-01/revisions), and the reviewers are asked again.",
    ],
    "comms_ended": [
        "has been cancelled by pm@example.com, and will not be sent. Reason: Maintenance moved.",
    ],
    "comms_message": ["on Sunday.", "Dashboards: read-only", "Exports: paused"],
    "comms_review": [
        "pm@example.com asks you (Engineering) to review a message before it goes to 1200 recipients, on 2026-12-01",
        "This is version 2: approvals of earlier versions no longer count.",
        "Version 2, content hash aaaaaaaaaaaa.",
        "opening it changes nothing",
    ],
    "comms_sent": [
        "(content hash bbbbbbbbbbbb), as approved by cs@example.com, eng@example.com, went to 1199 of 1200 recipients "
        "and to #status.",
        "gone@example.com: 550 no such mailbox",
    ],
    "postmortem_actions": [
        "The post-mortem of INC-42 (Acme Analytics 2.0 checkout errors) gives you these action items",
        "Alert on error rate — P1, due 2026-12-09 (OPS-7)",
        "signoff done postmortem-inc-42 ITEM",
    ],
    "postmortem_decision": [
        "cto@example.com asked for changes to the draft of the post-mortem of INC-42.",
        "Add the timeline.",
        "The draft is open again: ic@example.com, revise it and mark it done again",
    ],
    "postmortem_ended": ["has been cancelled by ic@example.com. Reason: Duplicate of INC-41."],
    "postmortem_escalation": ["Canary deploys — owned by dev@example.com, due 2026-12-31"],
    "postmortem_kickoff": [
        "INC-42 (Acme Analytics 2.0 checkout errors, SEV2) was resolved on 2026-12-02 14:05 UTC.",
        "the draft is due on 2026-12-07, then cto@example.com review it.",
        "This is a blameless review",
        "Timeline: detection, mitigation, resolution (UTC)",
    ],
    "postmortem_reminder": ["These post-mortem items for INC-42 are past their due date:", "Alert on error rate"],
    "postmortem_review": ["has finished the draft of the post-mortem of INC-42", "Action items filed so far: 2."],
    "postmortem_summary": [
        "Its draft was approved by cto@example.com and is in OPS-6.",
        "Canary deploys (dev@example.com, P3): won't do: Replaced by flags.",
        "the point was never who, but what we change.",
    ],
    "eol_approval": [
        "pm@example.com asks for your last word before Acme Analytics 2.0 is shut down on 2027-06-30",
        "Still open:",
        "opening it changes nothing",
    ],
    "eol_decision": [
        "vp@example.com decided on the Pull the plug of the end of life of Acme Analytics 2.0",
        "(shutdown on 2027-06-30): rejected.",
        "Not before the migration guide is out.",
    ],
    "eol_ended": ["(shutdown planned for 2027-06-30) was cancelled by pm@example.com. Reason: The product stays."],
    "eol_milestone": [
        "From today, 2027-02-01, Acme Analytics 2.0 is no longer sold: no new subscriptions and no renewals.",
        "https://docs.example.com/migrate",
    ],
    "eol_reminder": ["These end-of-life tasks for Acme Analytics 2.0 are past their due date:", "Release notes"],
    "eol_tasks": [
        "customers hear on 2027-01-10, sales stop on 2027-02-01, support ends on 2027-04-01",
        "Teams hear before customers do",
    ],
    "changed": [
        "pm@example.com changed the launch of Acme Analytics 2.0 on 2026-12-15:",
        "The launch moves from 2026-12-15 to 2026-12-22 (7 days later).",
        "Legal needs a week <more>.",
        "Release notes — due 2026-12-08",
    ],
    "delivery_problem": [
        'signoff could not create the Jira issue "Legal review" for the launch of Acme Analytics 2.0 on 2026-12-15',
        "Jira: the account may not create issues in LAUNCH: grant it 'Create issues' <here>",
        "do by hand what was missed",
    ],
    "ended": [
        "The launch of Acme Analytics 2.0 on 2026-12-15 has been cancelled by pm@example.com.",
        "Postponed to Q1.",
        "Nothing more is needed from you for it; its open issues are closed.",
    ],
    "escalation": [
        "are still open 3 days after their due date",
        "Release notes — owned by docs@example.com, due 2026-12-08",
        "The owners have been reminded. You may want to unblock them or move the date.",
    ],
    "kickoff_owner": [
        "pm@example.com has kicked off the launch of Acme Analytics 2.0 on 2026-12-15, and you own these items",
        "Product documentation — due 2026-12-05 (LAUNCH-6), already late",
        "This launch started 14 days before launch day; the checklist assumes 28; due dates were compressed.",
        "You will get a reminder before each is due, except Product documentation (already late; first reminder on "
        "2026-12-07).",
    ],
    "launch_clash": [
        "lands on a day with other launches that involve the same people",
        "(launch-acme-beta-2026-12-15) is also on 2026-12-15, with vp@example.com",
        "Nothing was refused: this is a warning.",
    ],
    "on_hold": [
        "Waiting on: vp@example.com, legal@example.com.",
        "If there is no decision by 2026-12-22 09:00 UTC, the launch ends as rejected.",
    ],
    "overdue": [
        "for the launch of Acme Analytics 2.0 on 2026-12-15 are past their due date",
        "Release notes — due 2026-12-08",
        "If something is blocking you, tell pm@example.com;",
    ],
    "reminder": [
        "A reminder about your items for the launch of Acme Analytics 2.0 on 2026-12-15:",
        "Close the issue or mark the item done in signoff when it is finished.",
    ],
    "step_held": [
        "Go / no-go was rejected in the launch of Acme Analytics 2.0 on 2026-12-15:",
        "it waits for your word until 2026-12-22 09:00 UTC.",
        "Without your word by 2026-12-22 09:00 UTC, the process ends as rejected.",
    ],
    "step_skipped": [
        "pm@example.com skipped Customer notice of the launch of Acme Analytics 2.0 on 2026-12-15",
        "The process goes on without it.",
    ],
    "schedule_refused": [
        "Your schedule acme-monthly-release was to start a launch process on 2027-01-01, but signoff refused",
        "params.template: no template named 'acme-release' <any more>",
        "this run will not be tried again. The schedule stays as it is: its next run tries again.",
    ],
}

EMAIL_TEMPLATES = sorted(
    p.stem for p in MESSAGES.glob("*.txt") if not p.name.startswith("_") and not p.stem.endswith("_chat")
)
HTML_TEMPLATES = sorted(p.stem for p in (MESSAGES / "html").glob("*.html") if not p.name.startswith("_"))


class _Page(HTMLParser):
    """The visible text, the link targets and whether every tag closed."""

    VOID = frozenset({"meta", "br", "img", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.hrefs: list[str] = []
        self.open: list[str] = []
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.text.append(" ")
        if tag == "a":
            self.hrefs += [value or "" for name, value in attrs if name == "href"]
        self.in_head = self.in_head or tag == "head"
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()
        self.in_head = self.in_head and tag != "head"

    def handle_data(self, data: str) -> None:
        if not self.in_head:
            self.text.append(data)

    @classmethod
    def read(cls, html: str) -> _Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    @property
    def words(self) -> str:
        return " ".join("".join(self.text).split())


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def render(renderer: TemplateRenderer, template: str, **overrides: Any) -> tuple[str, str]:
    """The text and HTML of `template` with the realistic context."""
    rendered = renderer.render(template, BASE | CONTEXTS[template] | overrides)
    assert rendered.html is not None, f"{template} has no HTML twin"
    return rendered.text, rendered.html


def test_every_email_template_has_an_html_twin_and_no_more() -> None:
    assert HTML_TEMPLATES == EMAIL_TEMPLATES
    assert set(CONTEXTS) == set(FACTS) == set(EMAIL_TEMPLATES)


def test_chat_templates_have_no_html(renderer: TemplateRenderer) -> None:
    assert renderer.render("kickoff_chat", BASE | {"items": ITEMS, "epic_key": "L-1", "gate_opens": "x"}).html is None


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_html_is_a_whole_page_with_the_facts(renderer: TemplateRenderer, template: str) -> None:
    text, html = render(renderer, template)
    page = _Page.read(html)

    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert page.open == [], f"unclosed tags: {page.open}"
    assert "Acme Analytics 2.0" in page.words
    assert "<style" not in html and "<script" not in html  # inline styles only: mail clients drop the rest
    # Every link the text gives is a link in the HTML too.
    for url in re.findall(r"https?://\S+", text):
        assert url in page.hrefs, f"{url} is not a link in {template}.html"


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_html_says_what_the_text_says(renderer: TemplateRenderer, template: str) -> None:
    text, html = render(renderer, template)
    words = _Page.read(html).words
    for fact in FACTS[template]:
        assert fact in " ".join(text.split()), f"{template}.txt no longer says {fact!r}: update this test and the twin"
        assert fact in words, f"{template}.html does not say {fact!r}"


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_html_escapes_what_it_is_given(renderer: TemplateRenderer, template: str) -> None:
    attack = "<script>alert(1)</script>"
    _, html = render(renderer, template, product=attack, about=attack, subject=attack, comment=attack, error=attack)

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


# One variable each HTML body uses (product is in every footer, so it would prove little).
USED = {
    "announcement": "launch_date", "approval_request": "approval_url", "decision": "gate_status",
    "comms_decision": "decision", "comms_ended": "outcome", "comms_message": "body", "comms_review": "approval_url",
    "comms_sent": "refused", "eol_approval": "approval_url", "eol_decision": "gate_status",
    "eol_ended": "outcome", "eol_milestone": "milestone",
    "eol_reminder": "kind", "eol_tasks": "items", "postmortem_actions": "items", "postmortem_decision": "decision",
    "postmortem_ended": "outcome", "postmortem_escalation": "items", "postmortem_kickoff": "prompts",
    "postmortem_reminder": "kind", "postmortem_review": "approval_url", "postmortem_summary": "actions",
    "delivery_problem": "error", "ended": "outcome", "escalation": "days_late", "launch_clash": "clashes",
    "kickoff_owner": "items", "on_hold": "waiting_on", "overdue": "items", "reminder": "items",
    "schedule_refused": "schedules_url", "changed": "changes",
    "step_held": "why", "step_skipped": "reason",
}  # fmt: skip


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_html_missing_variable_raises(renderer: TemplateRenderer, template: str) -> None:
    context = BASE | CONTEXTS[template]
    del context[USED[template]]
    with pytest.raises(jinja2.UndefinedError):
        renderer.html.get_template(f"{template}.html").render(context)


def test_approval_request_has_a_button_to_the_approvers_link(renderer: TemplateRenderer) -> None:
    _, html = render(renderer, "approval_request")
    page = _Page.read(html)

    escaped = APPROVAL_URL.replace("&", "&amp;")
    assert re.search(rf'<a href="{re.escape(escaped)}"[^>]*>Review and decide</a>', html)
    assert page.hrefs.count(APPROVAL_URL) == 2  # the button, and the address spelled out beneath
    assert "10 of 12 items done" in page.words
    assert "Release notes (docs@example.com, due 2026-12-08)" in page.words
    assert "It works until 2026-12-22 09:00 UTC" in page.words


def test_approval_request_reminder_and_no_open_items(renderer: TemplateRenderer) -> None:
    _, html = render(renderer, "approval_request", reminder=True, open_items=[], done=12)
    words = _Page.read(html).words
    assert words.startswith("Reminder: Go / no-go for Acme Analytics 2.0")
    assert "12 of 12 items done." in words
    assert "Still open" not in words


def test_item_lists_show_issue_keys_when_there_are_some(renderer: TemplateRenderer) -> None:
    words = _Page.read(render(renderer, "reminder")[1]).words
    assert "Product documentation — due 2026-12-05 (LAUNCH-6)" in words
    assert "Release notes — due 2026-12-08" in words
    assert "()" not in words


def test_escalation_names_the_owners(renderer: TemplateRenderer) -> None:
    words = _Page.read(render(renderer, "escalation")[1]).words
    assert "Product documentation — owned by docs@example.com, due 2026-12-05 (LAUNCH-6)" in words


def test_decision_comment_keeps_its_lines_escaped(renderer: TemplateRenderer) -> None:
    _, html = render(renderer, "decision", comment="Fine <b>if</b>\nthe docs land.")
    assert "Fine &lt;b&gt;if&lt;/b&gt;<br>the docs land." in html
    assert "asked for changes to the launch" in _Page.read(html).words


def test_decision_without_comment_leaves_it_out(renderer: TemplateRenderer) -> None:
    _, html = render(renderer, "decision", comment="")
    assert "comment" not in _Page.read(html).words


def test_ended_without_reason_or_actor(renderer: TemplateRenderer) -> None:
    words = _Page.read(render(renderer, "ended", by="", reason="")[1]).words
    assert "has been cancelled." in words
    assert "Reason" not in words


# ---- a launch started late (issue #14): what its kickoff says ---------------------------------------------------


@pytest.mark.parametrize(
    ("why", "facts"),
    [
        ({"at_kickoff": True}, ("The launch of Acme Analytics 2.0 on 2026-12-15 started with these items already 5 "
                                "days or more past their", "Their owners were told at kickoff.")),
        ({"moved": True}, ("The launch of Acme Analytics 2.0 moved earlier, to 2026-12-15, which puts these items 5 "
                           "days or more past", "Their owners were told of their new dates.")),
    ],
    ids=["at-kickoff", "moved-earlier"],
)  # fmt: skip
def test_an_escalation_at_once_says_why_the_items_are_already_past_it(
    renderer: TemplateRenderer, why: dict[str, bool], facts: tuple[str, str]
) -> None:
    """At kickoff (a launch started late) or after a move earlier: not "the owners have been reminded"."""
    text, html = render(renderer, "escalation", days_late=5, **why)
    words = _Page.read(html).words
    for fact in facts:
        assert fact in " ".join(text.split()) and fact in words
    assert "have been reminded" not in text


def test_an_escalation_at_kickoff_says_already_in_its_subject(renderer: TemplateRenderer) -> None:
    subject = renderer.render("escalation", BASE | CONTEXTS["escalation"] | {"at_kickoff": True}).subject
    assert subject == "Escalation: launch items for Acme Analytics 2.0 are already 3 days overdue"


def test_a_kickoff_email_asked_for_before_the_change_still_renders(renderer: TemplateRenderer) -> None:
    """A launch whose kickoff was under way when the change was deployed asks for the email with its items alone."""
    rendered = renderer.render("kickoff_owner", BASE | {"items": ITEMS})
    assert "You will get a reminder before each is due." in rendered.text
    assert "compressed" not in rendered.text and "already late" not in rendered.text
    assert rendered.html is not None and "already late" not in rendered.html
    assert "already" not in renderer.render("escalation", BASE | CONTEXTS["escalation"]).subject


def test_a_kickoff_email_promises_no_reminder_that_will_not_come(renderer: TemplateRenderer) -> None:
    unreminded = [{"title": "Product documentation", "late": False, "reminder": ""}]
    text, html = render(renderer, "kickoff_owner", items=ITEMS[:1], unreminded=unreminded, compressed=None)
    said = "No reminder can come before it is due: Product documentation (due too soon; no reminder before launch day)."
    assert said in " ".join(text.split()) and said in _Page.read(html).words
    assert "You will get a reminder" not in text and "compressed" not in text


def test_the_kickoff_post_says_the_checklist_was_compressed_or_names_the_late_items(renderer: TemplateRenderer) -> None:
    context = BASE | CHAT_CONTEXTS["kickoff_chat"]
    compressed = renderer.render("kickoff_chat", context | {"compressed": {"days_left": 14, "assumed_days": 28}})
    late = renderer.render("kickoff_chat", context).text

    assert "This launch started 14 days before launch day; the checklist assumes 28; due dates were compressed." in (
        compressed.text
    )
    assert "due dates were compressed" not in late
    assert ":warning: 1 item is already late: Product documentation." in late
    assert "already late" not in renderer.render("kickoff_chat", context | {"late": []}).text
