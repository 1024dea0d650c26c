"""Chat posts (Slack, Teams, or the outbox)."""

from __future__ import annotations

from temporalio import activity

from activities.errors import integration_errors
from domain.models import Delivery, MessageRequest
from integrations.ports import Chat, ChatMessage, Links, Renderer


class ChatActivities:
    """Posts rendered messages to a channel, once per key."""

    def __init__(self, chat: Chat, renderer: Renderer, links: Links) -> None:
        self.chat = chat
        self.renderer = renderer
        self.links = links

    @activity.defn(name="post_message")
    def post_message(self, request: MessageRequest) -> Delivery:
        """Render and post one message to the channel in `request.to`."""
        context = {**request.context, "process_url": self.links.process_url(request.process_id)}
        rendered = self.renderer.render(request.template, context)
        channel = request.to[0] if request.to else "#general"
        message = ChatMessage(key=request.key, process_id=request.process_id, channel=channel, text=rendered.text)
        with integration_errors():
            return self.chat.post(message)
