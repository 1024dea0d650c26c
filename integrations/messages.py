"""Message templates: Jinja2 files in ``integrations/messages/``.

A template's first line is ``Subject: …``; the text after the blank line
is the body. A template may have an HTML twin, ``messages/html/NAME.html``
(autoescaped), rendered with the same context for email's HTML part.
Wording lives here, not in workflows, so it can change without touching
the history of a running process. States and counts go through `domain.words`
(``{{ gate_status|label("gate") }}``, ``{{ n|counted("item") }}``), the words
of the pages and the CLI too.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from domain.access import person_of
from domain.words import count, label, plural, received
from integrations.ports import Rendered

MESSAGES = Path(__file__).parent / "messages"

WORDS = {"label": label, "counted": count, "plural": plural, "received": received}
"""The filters every message template has, from `domain.words`."""


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def markdown_html(text: str) -> Markup:
    """Markdown (CommonMark, tables, strikethrough) as HTML; raw HTML in the source is escaped, not passed on."""
    return Markup(_MARKDOWN.render(str(text)))  # str() makes an undefined variable raise, as elsewhere


def as_people_see_it(context: dict[str, object]) -> dict[str, object]:
    """The context with who acted named as a person: the trail's actor says which of their tokens acted
    (``pm@x.com (token release-bot)``, `domain.access.Caller.actor`), which is the operator's business, not
    the recipients'."""
    by = context.get("by")
    return context | {"by": person_of(by)} if isinstance(by, str) else context


class TemplateRenderer:
    """Renders the message templates with strict undefined variables."""

    def __init__(self, folder: Path = MESSAGES) -> None:
        self.folder = folder
        self.html = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder / "html"),
            undefined=jinja2.StrictUndefined,
            autoescape=True,
        )
        self.html.filters |= WORDS | {"markdown": markdown_html}
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
        )
        self.env.filters |= WORDS

    def render(self, template: str, context: dict[str, object]) -> Rendered:
        """Render ``template.txt`` into a subject and a body, and its HTML twin if it has one."""
        context = as_people_see_it(context)
        text = self.env.get_template(f"{template}.txt").render(context)
        head, _, body = text.partition("\n\n")
        subject = head.removeprefix("Subject:").strip()
        html = None
        if (self.folder / "html" / f"{template}.html").exists():
            html = self.html.get_template(f"{template}.html").render(context)
        return Rendered(subject=subject, text=body.strip() + "\n", html=html)
