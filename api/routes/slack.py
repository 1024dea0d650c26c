"""``POST /hooks/slack``: Approve / Reject buttons clicked in Slack.

Slack wants an answer within three seconds and shows the person an error
otherwise, so the route checks the signature (on the raw bytes, before
anything is parsed), reads the click, answers 200 at once and applies the
decision after the answer. A decision that lands is shown by the workflow
itself, which edits the request in place (as it does for one taken through
the email link); one that is refused — not this person's buttons, already
decided, the gate closed, the link expired — is told to the person who
clicked, in a reply only they see.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Services, ServicesDep
from api.observability import timed_decision
from api.routes.hooks import MAX_BODY, read_capped
from domain.enums import Channel, Decision
from domain.errors import BadInput, SignoffError
from domain.updates import DecisionInput
from integrations.slack import SlackChat
from integrations.slack_interactions import BadSignature, NotADecision, SlackDecision, parse_interaction, verify_request

router = APIRouter(prefix="/hooks", tags=["webhooks"])
log = structlog.get_logger()


class NotTheApprover(SignoffError):
    """Someone pressed buttons sent to another person."""


@router.post("/slack")
async def slack_interaction(request: Request, background: BackgroundTasks, svc: ServicesDep) -> Response:
    """A click in Slack, signed with ``SIGNOFF_SLACK_SIGNING_SECRET`` (v0 signature, 5-minute window)."""
    if not svc.slack_signing_secret or svc.slack is None:
        return _error(404, "Slack interactivity is off: set SIGNOFF_SLACK_TOKEN and SIGNOFF_SLACK_SIGNING_SECRET")
    body = await read_capped(request)
    if body is None:
        return _error(413, f"the body is over {MAX_BODY} bytes")
    try:
        verify_request(svc.slack_signing_secret, dict(request.headers), body, time.time())
        click = parse_interaction(body)
    except BadSignature as err:
        return _error(401, f"not a request from Slack: {err}")
    except NotADecision:
        return Response(status_code=200)  # a link button or another interaction: nothing to do
    except BadInput as err:
        return _error(400, str(err))
    background.add_task(apply_click, svc, svc.slack, click)
    return Response(status_code=200)


async def apply_click(svc: Services, slack: SlackChat, click: SlackDecision) -> None:
    """Record the clicked decision as the token's approver, or tell the person why not."""
    try:
        claims = svc.tokens.read(click.token, datetime.now(UTC))
        email = await run_in_threadpool(slack.user_email, click.user_id)
        if email.casefold() != claims.approver.casefold():
            raise NotTheApprover(
                f"These buttons are for {claims.approver}; your Slack account's email is {email or 'not visible'}, "
                "so nothing was recorded."
            )
        with timed_decision(Channel.SLACK.value, claims.process_id):
            await svc.processes.decide(
                claims.process_id,
                DecisionInput(
                    gate=claims.gate,
                    round=claims.round,
                    approver=claims.approver,
                    decision=Decision(click.decision),
                    token_id=claims.token_id,
                    channel=Channel.SLACK,
                    content_hash=claims.content_hash,
                    on_behalf_of=claims.on_behalf_of,
                    signed_in=True,  # Slack vouched for the user, and they are the approver (checked above)
                ),
            )
    except SignoffError as refusal:
        log.info("slack decision not recorded", user=click.user_id, reason=str(refusal))
        try:
            await run_in_threadpool(slack.tell, click.response_url, f"Not recorded: {refusal}")
        except SignoffError as err:
            log.warning("could not tell a Slack user why their click was refused", user=click.user_id, error=str(err))


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)
