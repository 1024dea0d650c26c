"""Email: rendered from the message templates, sent once per key."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import integration_errors
from domain.errors import Refused
from domain.requests import ApprovalLinkRequest, BatchRequest, BatchResult, Delivery, MessageRequest
from domain.rules import local_time
from integrations.ports import ApprovalAsk, Email, Links, Mailer, Renderer


class MailActivities:
    """Sends email through a mailer, with links built by `links`."""

    def __init__(self, mailer: Mailer, renderer: Renderer, links: Links) -> None:
        self.mailer = mailer
        self.renderer = renderer
        self.links = links

    @activity.defn(name="send_email", no_thread_cancel_exception=True)
    def send_email(self, request: MessageRequest) -> Delivery:
        """Render and send one email."""
        context = {**request.context, "process_url": self.links.process_url(request.process_id)}
        return self._send(request.key, request.process_id, request.to, request.template, context)

    @activity.defn(name="send_approval_request", no_thread_cancel_exception=True)
    def send_approval_request(self, request: ApprovalLinkRequest) -> Delivery:
        """Send an approver their own signed approval link, which the outbox row keeps too (`ApprovalAsk`)."""
        url = self.links.approval_url(request.claims())
        context = {
            **request.context,
            "approval_url": url,
            "expires_at": local_time(request.expires_at, request.context.get("time_zone", "")),
            "process_url": self.links.process_url(request.process_id),
        }
        ask = ApprovalAsk(
            gate=request.gate,
            round=request.round,
            addressee=request.approver,
            url=url,
            on_behalf_of=request.on_behalf_of,
        )
        return self._send(request.key, request.process_id, [request.approver], request.template, context, ask)

    @activity.defn(name="send_batch", no_thread_cancel_exception=True)
    def send_batch(self, request: BatchRequest) -> BatchResult:
        """Send one message to each recipient of a batch, each once (key ``request.key:recipient``).

        A recipient the relay refuses is reported and the batch goes on. An
        outage stops the batch and fails the activity, so Temporal retries it:
        those already sent are then found in the ledger and not sent again.
        """
        context = {**request.context, "process_url": self.links.process_url(request.process_id)}
        rendered = self.renderer.render(request.template, context)
        outcomes: dict[str, str] = {}
        for recipient in request.recipients:
            email = Email(
                key=f"{request.key}:{recipient}",
                process_id=request.process_id,
                to=[recipient],
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
            )
            try:
                with integration_errors():
                    delivery = self.mailer.send(email)
            except ApplicationError as err:
                if not isinstance(err.__cause__, Refused):
                    raise
                outcomes[recipient] = f"refused: {err.message}"
            else:
                outcomes[recipient] = "sent again" if delivery.outcome == "sent_again" else "sent"
        return BatchResult(outcomes=outcomes)

    def _send(
        self,
        key: str,
        process_id: str,
        to: list[str],
        template: str,
        context: dict[str, object],
        approval: ApprovalAsk | None = None,
    ) -> Delivery:
        rendered = self.renderer.render(template, context)
        email = Email(
            key=key,
            process_id=process_id,
            to=to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            approval=approval,
        )
        with integration_errors():
            return self.mailer.send(email)
