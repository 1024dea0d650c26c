"""The ports activities talk to: a few typed methods each, no ``**kwargs``.

Each has a real adapter and an embedded one (the outbox); tests use fakes.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel

from domain.audit import AuditEvent, StoredAuditEvent, ViewCopy
from domain.requests import ApprovalClaims, Delivery, IssueRef, IssueRequest, IssueUpdate, TransitionRequest


class ApprovalAsk(BaseModel):
    """What an approval request asks of its addressee, and the link it carries.

    A mailer keeps it in the meta of the email's outbox row (`meta`), where "my work" finds a person's link
    (`api.routes.mine`): from what signoff put there, never from a body, which may quote text the process's
    owner wrote.
    """

    gate: str
    round: int
    addressee: str
    """Who the email asks: the approver, or the one deciding on their behalf."""
    url: str
    """The addressee's own signed approval link."""
    on_behalf_of: str | None = None

    def meta(self) -> dict[str, str]:
        """Its fields as an outbox row's meta (every value a string, as the send ledger keeps them)."""
        return {
            "approval_gate": self.gate,
            "approval_round": str(self.round),
            "approval_to": self.addressee,
            "approval_url": self.url,
            "approval_for": self.on_behalf_of or "",
        }


class Email(BaseModel):
    """A rendered email, ready to go."""

    key: str
    process_id: str
    to: list[str]
    subject: str
    text: str
    html: str | None = None
    approval: ApprovalAsk | None = None
    """Set on an approval request: kept with the email's outbox row."""


class ChatAction(BaseModel):
    """A button under a chat message.

    Slack sends `value` back through its interactivity endpoint (an approval
    token, say); where a chat has no such endpoint (Teams), the button opens `url`.
    """

    label: str
    value: str
    url: str
    style: Literal["primary", "danger"] | None = None


class ChatMessage(BaseModel):
    """A rendered chat post, to a channel (``#launches``) or a person (their email)."""

    key: str
    process_id: str
    channel: str
    text: str
    actions: list[ChatAction] = []


class Rendered(BaseModel):
    """A message template rendered for one send: plain text, and HTML where the template has it."""

    subject: str
    text: str
    html: str | None = None


class Tracker(Protocol):
    """An issue tracker (Jira, or the outbox)."""

    def create_issue(self, request: IssueRequest) -> IssueRef:
        """Create the issue for `request.marker`, or return the one already made."""
        ...

    def transition_issue(self, request: TransitionRequest) -> None:
        """Move an issue to a status, commenting if asked; repeating it is harmless."""
        ...

    def issue_statuses(self, keys: list[str]) -> dict[str, str]:
        """Each issue's status category (``new``, ``indeterminate``, ``done``); unknown keys left out."""
        ...

    def update_issue(self, request: IssueUpdate) -> None:
        """Change an issue's assignee or due date (what the request names), commenting once; repeating it is
        harmless."""
        ...


class Mailer(Protocol):
    """Sends email (SMTP, or the outbox)."""

    def send(self, email: Email) -> Delivery:
        """Send `email` once per `email.key`."""
        ...


class Chat(Protocol):
    """Posts to a chat channel (Slack, Teams, or the outbox)."""

    direct_messages: bool
    """Whether `post` can reach a person by their email (Slack can; a Teams incoming webhook cannot)."""

    def post(self, message: ChatMessage) -> Delivery:
        """Post `message` once per `message.key`."""
        ...

    def update(self, key: str, text: str) -> bool:
        """Replace the message posted under `key` by `text`, without buttons; False if there is none to replace."""
        ...


class AuditLog(Protocol):
    """Where audit events are kept."""

    def append(self, event: AuditEvent) -> StoredAuditEvent:
        """Keep `event` once per (process, seq), chained to the one before."""
        ...

    def append_all(self, events: list[AuditEvent], view: ViewCopy | None = None) -> None:
        """Keep `events` (one process's, in order) as `append` does, in one transaction, with the process's `view`."""
        ...


class Links(Protocol):
    """Builds the absolute URLs that go into messages."""

    def approval_url(self, claims: ApprovalClaims) -> str:
        """The signed approval link for one approver at one gate."""
        ...

    def approval_token(self, claims: ApprovalClaims) -> str:
        """The signed token of that link alone (a chat button carries it back)."""
        ...

    def process_url(self, process_id: str) -> str:
        """The page of a process."""
        ...


class Renderer(Protocol):
    """Turns a message template and its facts into text."""

    def render(self, template: str, context: dict[str, object]) -> Rendered:
        """Render `template` with `context`."""
        ...
