"""At most once per key: the outbox rows behind every email, chat post and the like.

SMTP, Slack and Teams take no idempotency key, so a send is recorded before
it is made and marked after. A row goes *pending* → *done* (with what is
worth keeping, such as where a chat message went), or *pending* → ``failed``
when the service certainly did not take it, which lets a retry claim it
again. A row left *pending* (no answer after the request went out, or a
worker that died mid-call) is never sent again: a lost message is better
than two approval requests, and it shows in the outbox with its reason.
Taking over a ``failed`` row is one conditional UPDATE, so of two attempts
racing to retry, exactly one sends.
"""

from __future__ import annotations

from typing import Any

import structlog

from integrations.ports import ChatMessage
from integrations.store import Store

log = structlog.get_logger()

FAILED = "failed"


class SendLedger:
    """The outbox rows of one channel (``email``, ``chat``) and its state names."""

    def __init__(self, store: Store, channel: str, pending: str, done: str, **stamp: str) -> None:
        """`stamp` goes into every row's meta (``via="slack"``)."""
        self.store = store
        self.channel = channel
        self.pending = pending
        self.done_state = done
        self.stamp = stamp

    def claim(self, key: str, process_id: str, to: list[str], subject: str, body: str, **meta: str) -> bool:
        """Record a send of `key` as under way; False if an earlier attempt sent it, or may have."""
        claimed = {**self.stamp, "state": self.pending, **meta}
        entry, created = self.store.record(key, process_id, self.channel, to, subject, body, claimed)
        if created:
            return True
        state = entry.meta.get("state")
        if state == FAILED:
            return self.store.replace_meta_if(key, entry.meta, claimed)
        if state == self.pending:
            log.warning("send unconfirmed; not sending it again", key=key, channel=self.channel, **self.stamp)
        return False

    def done(self, key: str, **meta: str) -> None:
        """Mark the send of `key` made, keeping `meta` (where it went, when)."""
        self._mark(key, self.done_state, meta)

    def failed(self, key: str, **meta: str) -> None:
        """Mark the send of `key` as certainly not made, so a retry makes it."""
        self._mark(key, FAILED, meta)

    def uncertain(self, key: str, **meta: str) -> None:
        """Leave `key` pending for good: it may have gone out, so it is never sent again."""
        self._mark(key, self.pending, meta)

    def where(self, key: str) -> dict[str, Any] | None:
        """The meta of a send that was made, or None."""
        entry = self.store.recorded(key)
        return entry.meta if entry and entry.meta.get("state") == self.done_state else None

    def _mark(self, key: str, state: str, meta: dict[str, str]) -> None:
        self.store.update_meta(key, {**self.stamp, "state": state, **meta})


class ChatLedger(SendLedger):
    """The ledger of chat posts made through `via` (``slack``, ``teams``)."""

    def __init__(self, store: Store, via: str) -> None:
        super().__init__(store, "chat", "posting", "posted", via=via)

    def claim_post(self, message: ChatMessage) -> bool:
        """Claim the post of `message` (see `SendLedger.claim`)."""
        return self.claim(message.key, message.process_id, [message.channel], message.channel, message.text)
