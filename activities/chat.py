"""Chat posts (Slack, Teams, or the outbox)."""

from __future__ import annotations

from temporalio import activity

from activities.errors import integration_errors
from domain.requests import ApprovalLinkRequest, Delivery, MessageRequest
from domain.rules import local_time
from integrations.ports import Chat, ChatAction, ChatMessage, Links, Renderer


class ChatActivities:
    """Posts rendered messages to a channel or a person, once per key, and edits them in place."""

    def __init__(self, chat: Chat, renderer: Renderer, links: Links) -> None:
        self.chat = chat
        self.renderer = renderer
        self.links = links

    @activity.defn(name="post_message", no_thread_cancel_exception=True)
    def post_message(self, request: MessageRequest) -> Delivery:
        """Render and post one message to the channel in `request.to`."""
        channel = request.to[0] if request.to else "#general"
        return self._post(request.key, request.process_id, channel, request.template, request.context)

    @activity.defn(name="post_approval_request", no_thread_cancel_exception=True)
    def post_approval_request(self, request: ApprovalLinkRequest) -> Delivery:
        """Message an approver with Approve / Reject buttons that carry their approval token.

        Skipped where the chat cannot reach a person (a Teams webhook posts
        to one channel, where anyone could press that approver's buttons).
        """
        if not self.chat.direct_messages:
            return Delivery(key=request.key, channel="chat", to=[request.approver], outcome="skipped")
        claims = request.claims()
        token, url = self.links.approval_token(claims), self.links.approval_url(claims)
        actions = [
            ChatAction(label="Approve", value=token, url=url, style="primary"),
            ChatAction(label="Reject", value=token, url=url, style="danger"),
            ChatAction(label="Open (comment)", value=token, url=url),
        ]
        context = {
            **request.context,
            "expires_at": local_time(request.expires_at, request.context.get("time_zone", "")),
        }
        return self._post(request.key, request.process_id, request.approver, request.template, context, actions)

    @activity.defn(name="update_message", no_thread_cancel_exception=True)
    def update_message(self, request: MessageRequest) -> Delivery:
        """Replace the message posted under `request.key` by `request.template` rendered; skipped if none was."""
        context = {**request.context, "process_url": self.links.process_url(request.process_id)}
        rendered = self.renderer.render(request.template, context)
        with integration_errors():
            updated = self.chat.update(request.key, rendered.text)
        return Delivery(key=request.key, channel="chat", to=request.to, outcome="sent" if updated else "skipped")

    def _post(
        self,
        key: str,
        process_id: str,
        channel: str,
        template: str,
        context: dict[str, object],
        actions: list[ChatAction] | None = None,
    ) -> Delivery:
        rendered = self.renderer.render(template, {**context, "process_url": self.links.process_url(process_id)})
        message = ChatMessage(
            key=key, process_id=process_id, channel=channel, text=rendered.text, actions=actions or []
        )
        with integration_errors():
            return self.chat.post(message)
