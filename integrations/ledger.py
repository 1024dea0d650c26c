"""At most once per key: the outbox rows behind every chat post.

Slack and Teams take no idempotency key, so a post is recorded before it is
sent and marked after; a retry that finds the record does not post again.
Shared by the Slack and Teams adapters.
"""

from __future__ import annotations

from typing import Any

import structlog

from integrations.ports import ChatMessage
from integrations.store import Store

log = structlog.get_logger()

POSTING, POSTED, FAILED = "posting", "posted", "failed"


class PostLedger:
    """The outbox rows that make a chat post happen at most once per key.

    A row goes ``posting`` → ``posted`` (with where the message went), or
    ``posting`` → ``failed`` when the service certainly did not post, which
    lets a retry claim it again. A row left ``posting`` (no answer after the
    request was sent, or a worker that died mid-call) is never posted again:
    a lost chat message is better than two approval requests. Two attempts
    running at the same time could both claim a ``failed`` row; Temporal runs
    one attempt of an activity at a time, so this needs a worker to outlive
    its start-to-close timeout.
    """

    def __init__(self, store: Store, via: str) -> None:
        self.store = store
        self.via = via

    def claim(self, message: ChatMessage) -> bool:
        """Record `message` as being posted; False if an earlier attempt posted it, or may have."""
        entry, created = self.store.record(
            message.key,
            message.process_id,
            "chat",
            [message.channel],
            message.channel,
            message.text,
            {"via": self.via, "state": POSTING},
        )
        if created:
            return True
        state = entry.meta.get("state")
        if state == FAILED:
            self.store.update_meta(message.key, {"via": self.via, "state": POSTING})
            return True
        if state == POSTING:
            log.warning("chat post unconfirmed; not posting it again", key=message.key, via=self.via)
        return False

    def posted(self, key: str, **where: str) -> None:
        """Mark the post of `key` done, remembering where it went."""
        self.store.update_meta(key, {"via": self.via, "state": POSTED, **where})

    def failed(self, key: str) -> None:
        """Mark the post of `key` as certainly not made, so a retry posts it."""
        self.store.update_meta(key, {"via": self.via, "state": FAILED})

    def where(self, key: str) -> dict[str, Any] | None:
        """The meta of a post that was made, or None."""
        entry = self.store.recorded(key)
        return entry.meta if entry and entry.meta.get("state") == POSTED else None
