"""Email: rendered from the message templates, sent once per key."""

from __future__ import annotations

from temporalio import activity

from activities.errors import integration_errors
from domain.models import ApprovalClaims, ApprovalLinkRequest, Delivery, MessageRequest
from integrations.ports import Email, Links, Mailer, Renderer


class MailActivities:
    """Sends email through a mailer, with links built by `links`."""

    def __init__(self, mailer: Mailer, renderer: Renderer, links: Links) -> None:
        self.mailer = mailer
        self.renderer = renderer
        self.links = links

    @activity.defn(name="send_email")
    def send_email(self, request: MessageRequest) -> Delivery:
        """Render and send one email."""
        context = {**request.context, "process_url": self.links.process_url(request.process_id)}
        return self._send(request.key, request.process_id, request.to, request.template, context)

    @activity.defn(name="send_approval_request")
    def send_approval_request(self, request: ApprovalLinkRequest) -> Delivery:
        """Send an approver their own signed approval link."""
        claims = ApprovalClaims(
            process_id=request.process_id,
            gate=request.gate,
            round=request.round,
            approver=request.approver,
            token_id=request.token_id,
            expires_at=request.expires_at,
        )
        context = {
            **request.context,
            "approval_url": self.links.approval_url(claims),
            "expires_at": f"{request.expires_at:%Y-%m-%d %H:%M} UTC",
            "process_url": self.links.process_url(request.process_id),
        }
        return self._send(request.key, request.process_id, [request.approver], request.template, context)

    def _send(self, key: str, process_id: str, to: list[str], template: str, context: dict[str, object]) -> Delivery:
        rendered = self.renderer.render(template, context)
        email = Email(
            key=key, process_id=process_id, to=to, subject=rendered.subject, text=rendered.text, html=rendered.html
        )
        with integration_errors():
            return self.mailer.send(email)
