"""The outbox: the embedded tracker, mailer and chat.

It records what would have gone out so the dashboard can show it, which is
how `signoff dev` works with no account anywhere. Each record is keyed, so
a retried activity finds its first record instead of writing a second.
"""

from __future__ import annotations

from domain.requests import Delivery, IssueRef, IssueRequest, IssueUpdate, TransitionRequest
from integrations.ports import ChatMessage, Email
from integrations.store import Store

DONE_STATUSES = {"done", "closed", "resolved"}
"""Status names the outbox counts as done (Jira reports a status category instead)."""


class OutboxTracker:
    """Issues recorded in the outbox, numbered ``PROJECT-n``."""

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")

    def create_issue(self, request: IssueRequest) -> IssueRef:
        """Record the issue once per marker and give it a key."""
        key = f"tracker:{request.marker}"
        lines = [request.description] if request.description else []
        lines += [
            f"{label}: {value}"
            for label, value in (
                ("Type", request.issue_type),
                ("Assignee", request.assignee),
                ("Due", request.due),
                ("Parent", request.parent),
                ("Labels", ", ".join(request.labels)),
            )
            if value
        ]
        entry, created = self.store.record(
            key,
            request.process_id,
            "tracker",
            [request.assignee] if request.assignee else [],
            request.summary,
            "\n".join(lines),
        )
        if not created and "issue_key" in entry.meta:
            return IssueRef(key=entry.meta["issue_key"], url=entry.meta["url"])
        issue_key = f"{request.project}-{entry.id}"
        url = f"{self.base_url}/outbox#{issue_key}"
        self.store.update_meta(key, {"issue_key": issue_key, "url": url})
        return IssueRef(key=issue_key, url=url)

    def transition_issue(self, request: TransitionRequest) -> None:
        """Record the move of an issue to a status."""
        self.store.record(
            f"tracker:{request.marker}",
            request.process_id,
            "tracker",
            [],
            f"{request.issue_key} → {request.status}",
            request.comment,
            {"issue_key": request.issue_key, "status": request.status, "resolution": request.resolution},
        )

    def update_issue(self, request: IssueUpdate) -> None:
        """Record the change of an issue's assignee or due date."""
        changes = [f"{name} {value}" for name, value in (("assignee", request.assignee), ("due", request.due)) if value]
        self.store.record(
            f"tracker:{request.marker}",
            request.process_id,
            "tracker",
            [request.assignee] if request.assignee else [],
            f"{request.issue_key} → {', '.join(changes)}",
            request.comment,
            {"issue_key": request.issue_key, "assignee": request.assignee, "due": str(request.due or "")},
        )

    def issue_statuses(self, keys: list[str]) -> dict[str, str]:
        """``done`` for an issue the outbox saw moved to a done status, else ``new``."""
        wanted = set(keys)
        statuses = dict.fromkeys(wanted, "new")
        for entry in self.store.outbox_of_channel("tracker", keys=wanted):
            if str(entry.meta.get("status", "")).casefold() in DONE_STATUSES:
                statuses[entry.meta["issue_key"]] = "done"
        return statuses


class OutboxMailer:
    """Email recorded in the outbox."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def send(self, email: Email) -> Delivery:
        """Record `email` once per key (an approval request with what it asks in the meta: `ApprovalAsk`)."""
        meta = email.approval.meta() if email.approval else None
        _, created = self.store.record(email.key, email.process_id, "email", email.to, email.subject, email.text, meta)
        return Delivery(key=email.key, channel="email", to=email.to, outcome="sent" if created else "duplicate")


class OutboxChat:
    """Chat posts recorded in the outbox; a message's buttons become lines with their links."""

    direct_messages = True

    def __init__(self, store: Store) -> None:
        self.store = store

    def post(self, message: ChatMessage) -> Delivery:
        """Record `message` once per key."""
        buttons = [f"[{action.label}] {action.url}" for action in message.actions]
        body = "\n\n".join([message.text.rstrip(), *(["\n".join(buttons)] if buttons else [])])
        _, created = self.store.record(
            message.key, message.process_id, "chat", [message.channel], message.channel, body
        )
        return Delivery(
            key=message.key, channel="chat", to=[message.channel], outcome="sent" if created else "duplicate"
        )

    def update(self, key: str, text: str) -> bool:
        """Replace the recorded message, as Slack edits one in place."""
        return self.store.rewrite(key, text)
