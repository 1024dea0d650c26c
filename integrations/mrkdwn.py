"""Slack's mrkdwn as a person reads it: HTML for the outbox page, where a chat message is shown as Slack would.

The chat templates (``integrations/messages/*_chat.txt``) are written in
mrkdwn — ``*bold*``, ``_italic_``, ``~struck~``, `` `code` ``, ``> quotes``,
``<https://…|links>`` and ``:emoji:`` names — and the outbox keeps a message
as it would have been posted. `mrkdwn_html` turns that into safe HTML (every
character of the text escaped, then only the markup above turned into tags),
and a button the outbox recorded as a line ``[Approve] https://…`` into a link.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

EMOJI = {
    "ballot_box_with_check": "☑️",
    "hourglass": "⏳",
    "memo": "📝",
    "no_entry": "⛔",
    "rocket": "🚀",
    "tada": "🎉",
    "wave": "👋",
    "white_check_mark": "✅",
    "x": "❌",
    "warning": "⚠️",
    "bell": "🔔",
    "calendar": "📅",
    "mega": "📣",
    "loudspeaker": "📢",
    "heavy_check_mark": "✔️",
    "eyes": "👀",
}
"""The emoji the message templates use (and a few more); another ``:name:`` stays as it is written."""

_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"<((?:https?://|mailto:)[^|>\s]+)(?:\|([^>\n]+))?>")
_SPECIAL = re.compile(r"<([@#!])([^|>\s]+)(?:\|([^>\n]+))?>")
_URL = re.compile(r"https?://[^\s<>()]+[^\s<>().,;:!?\]'\"]")
_BUTTON = re.compile(r"^\[([^\]\n]+)\] (https?://\S+)$")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "del"),
)
_EMOJI = re.compile(r":([a-z0-9_+-]+):")


def mrkdwn_html(text: str) -> Markup:
    """`text` (Slack mrkdwn) as HTML: paragraphs, line breaks, quotes, styles, links and emoji.

    >>> str(mrkdwn_html(":rocket: *Acme* <https://x.example/p|the launch> & more"))
    '<p>🚀 <strong>Acme</strong> <a href="https://x.example/p">the launch</a> &amp; more</p>'
    """
    blocks: list[str] = []
    for number, part in enumerate(_FENCE.split(str(text).strip())):
        if number % 2:  # inside ``` … ```
            blocks.append(f"<pre>{html.escape(part.strip(chr(10)))}</pre>")
        else:
            blocks += [_paragraph(chunk) for chunk in re.split(r"\n\s*\n", part) if chunk.strip()]
    return Markup("\n".join(blocks))


def _paragraph(chunk: str) -> str:
    lines = chunk.strip("\n").split("\n")
    if all(line.startswith(">") for line in lines):
        inner = "<br>".join(_line(line[1:].lstrip()) for line in lines)
        return f"<blockquote>{inner}</blockquote>"
    return "<p>" + "<br>".join(_line(line) for line in lines) + "</p>"


def _line(line: str) -> str:
    button = _BUTTON.match(line.strip())
    if button:
        label, url = button.groups()
        return f'<a class="button" href="{html.escape(url)}">{html.escape(label)}</a>'
    pieces = []
    for number, part in enumerate(_CODE.split(line)):
        pieces.append(f"<code>{html.escape(part)}</code>" if number % 2 else _text(part))
    return "".join(pieces)


def _text(text: str) -> str:
    """Text outside code: links and mentions first (their parts are never styled), then styles and emoji."""
    out, at = [], 0
    for token in re.finditer(f"{_LINK.pattern}|{_SPECIAL.pattern}|{_URL.pattern}", text):
        out.append(_styled(text[at : token.start()]))
        out.append(_token(token.group(0)))
        at = token.end()
    out.append(_styled(text[at:]))
    return "".join(out)


def _token(token: str) -> str:
    link = _LINK.fullmatch(token)
    if link:
        url, shown = link.groups()
        return f'<a href="{html.escape(url)}">{html.escape(shown or url)}</a>'
    special = _SPECIAL.fullmatch(token)
    if special:
        sigil, name, shown = special.groups()
        sigil = "@" if sigil == "!" else sigil  # <!here> is @here
        return f'<span class="mention">{html.escape(sigil + (shown or name))}</span>'
    return f'<a href="{html.escape(token)}">{html.escape(token)}</a>'


def _styled(text: str) -> str:
    escaped = html.escape(text, quote=False)
    for pattern, tag in _STYLES:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), escaped)
