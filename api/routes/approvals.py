"""Approval links: ``GET /approve/{token}`` shows, ``POST`` decides.

GET and HEAD never change anything: mail security scanners open every link
in a message. The decision is the POST of the page's one form, which carries
a form token bound to the approval token (CSRF protection without cookies).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import Services, ServicesDep
from api.observability import timed_decision
from api.rendering import TEMPLATES
from api.tokens import InvalidToken
from domain.access import Caller
from domain.enums import Channel, Decision
from domain.errors import (
    BadInput,
    Conflict,
    Expired,
    Forbidden,
    InvalidField,
    NotFound,
    SignoffError,
    Unauthenticated,
)
from domain.requests import ApprovalClaims
from domain.updates import DecisionInput, DelegateInput
from domain.views import GateState, ProcessView

router = APIRouter(tags=["approvals"])


def _gate(view: ProcessView, claims: ApprovalClaims, same_round: bool = True) -> GateState:
    """The gate `claims` names; by default only while it is still at the claims' round, and its holder still asked
    (not taken off the gate by an edit; a delegate still handed the decision)."""
    gate = next((g for g in view.gates if g.key == claims.gate), None)
    if gate is None:
        raise NotFound(f"process {view.id} has no gate {claims.gate!r}")
    if same_round and gate.round != claims.round:
        raise Expired(f"this request was replaced by a newer one (round {gate.round}); use the latest email")
    whom = claims.on_behalf_of or claims.approver
    if whom in gate.removed and whom not in gate.approvers:
        raise Expired(f"{whom} is no longer an approver of {gate.title}: the process owner changed its approvers")
    if same_round and claims.on_behalf_of and gate.delegates.get(claims.on_behalf_of) != claims.approver:
        raise Expired(f"{claims.on_behalf_of} no longer hands their decision on {gate.title} to {claims.approver}")
    return gate


def _page(view: ProcessView, claims: ApprovalClaims, gate: GateState, form_token: str) -> dict[str, Any]:
    """What the confirmation page shows of `view` to the approver of `claims` (or their delegate)."""
    whom = claims.on_behalf_of or claims.approver
    return {
        "claims": claims,
        "view": view,
        "gate": gate,
        "mine": next((d for d in gate.decisions if d.for_whom == whom and d.round == claims.round), None),
        "handed_to": gate.delegates.get(claims.approver) if not claims.on_behalf_of else None,
        "done": sum(1 for i in view.items if i.status == "done"),
        "open_items": [i for i in view.items if i.status == "open"],
        "form_token": form_token,
        "role": _role(view, whom),
        "decisions": [d.value for d in Decision],
    }


def _role(view: ProcessView, approver: str) -> str:
    """A message reviewer's role (Customer Success, Engineering), if the process names one."""
    reviewers = view.params.get("reviewers") or []
    return next((r.get("role", "") for r in reviewers if isinstance(r, dict) and r.get("email") == approver), "")


def _person(request: Request) -> Caller | None:
    """The person `authorize` proved for this request, if any (dev mode's local admin is nobody in particular)."""
    caller: Caller | None = getattr(request.state, "caller", None)
    return None if caller is None or caller.in_dev_mode else caller


def _not_theirs(person: Caller | None, claims: ApprovalClaims, require_sign_in: bool) -> SignoffError | None:
    """Why whoever holds this link may not decide with it; None if they may.

    A link is its approver's credential, so holding it is enough, unless the
    gate asks approvers to sign in; and a person signed in as someone else
    is never taken for the approver.
    """
    if person is not None and not person.is_(claims.approver):
        return Forbidden(f"this link is {claims.approver}'s; you are signed in as {person.email} and cannot decide")
    if require_sign_in and person is None:
        return Unauthenticated(f"this decision needs you to sign in as {claims.approver} first")
    return None


async def _context(svc: Services, token: str, request: Request) -> dict[str, Any]:
    claims = svc.tokens.read(token, datetime.now(UTC))
    view = await svc.processes.view(claims.process_id)
    gate = _gate(view, claims)
    refused = _not_theirs(_person(request), claims, gate.require_sign_in)
    return _page(view, claims, gate, svc.tokens.form_token(claims)) | {
        "not_theirs": str(refused) if refused else None,
        "sign_in": f"{svc.auth.sign_in_url}?next={quote(request.url.path)}"
        if isinstance(refused, Unauthenticated) and svc.auth.sign_in_url
        else None,
    }


@router.get("/approve/{token}", response_class=HTMLResponse)  # and HEAD, as every GET (api.app.HeadAsGet)
async def confirmation_page(token: str, request: Request, svc: ServicesDep) -> Response:
    """What is being approved, by whom, and the gate's state; changes nothing."""
    context = await _context(svc, token, request)
    return TEMPLATES.TemplateResponse(request, "approve.html", context)


@router.post("/approve/{token}", response_class=HTMLResponse)
async def decide(
    token: str,
    request: Request,
    svc: ServicesDep,
    decision: str = Form("", max_length=20),  # missing: refused on the page, not as FastAPI's JSON
    comment: str = Form("", max_length=5000),  # as `DecisionInput.comment`
    form_token: str = Form("", max_length=500),
) -> Response:
    """Record the decision posted from the confirmation page, and show the page as it is with it.

    The process is not asked anything first: the update's validator refuses what must not be
    recorded, and its answer is the process as the page shows it. The answer's ``Server-Timing``
    says how long the update and the page took.
    """
    claims = svc.tokens.read(token, datetime.now(UTC))
    if not svc.tokens.check_form(claims, form_token):
        raise InvalidToken("this form did not come from the approval page: open your link again and decide there")
    person = _person(request)
    refused = _not_theirs(person, claims, require_sign_in=False)  # the gate's own rule: its validator, below
    if refused:
        raise refused
    try:
        choice = Decision(decision.strip())
    except ValueError:
        said = f"{decision.strip()!r} is not a decision" if decision.strip() else "no decision was chosen"
        raise BadInput(f"{said}: choose one of {', '.join(d.value for d in Decision)} on the page") from None
    began = time.perf_counter()
    try:
        with timed_decision(Channel.LINK.value, claims.process_id):
            view = await svc.processes.decide(
                claims.process_id,
                DecisionInput(
                    gate=claims.gate,
                    round=claims.round,
                    approver=claims.approver,
                    decision=choice,
                    comment=comment.strip(),
                    token_id=claims.token_id,
                    channel=Channel.LINK,
                    content_hash=claims.content_hash,
                    signed_in=person is not None,  # a gate that asks for sign-in refuses the link alone (its validator)
                    on_behalf_of=claims.on_behalf_of,
                ),
            )
    except Conflict as refusal:
        context = await _context(svc, token, request)
        return TEMPLATES.TemplateResponse(request, "approve.html", context | {"refusal": str(refusal)}, status_code=409)
    decided = time.perf_counter()
    gate = _gate(view, claims, same_round=False)  # a rejection that reopens the gate starts the next round
    context = _page(view, claims, gate, svc.tokens.form_token(claims)) | {"recorded": True}
    page = TEMPLATES.TemplateResponse(request, "approve.html", context)
    page.headers["Server-Timing"] = f"update;dur={(decided - began) * 1000:.1f}, page;dur={_ms_since(decided):.1f}"
    return page


def _ms_since(moment: float) -> float:
    return (time.perf_counter() - moment) * 1000


@router.post("/approve/{token}/delegate", response_class=HTMLResponse)
async def hand_over(
    token: str,
    request: Request,
    svc: ServicesDep,
    to: str = Form("", max_length=320),  # missing: refused on the page, not as FastAPI's JSON
    note: str = Form("", max_length=2000),  # as `DelegateInput.note`
    form_token: str = Form("", max_length=500),
) -> Response:
    """Hand the decision of this link's approver to someone else (their deputy while they are away): that person
    gets a link of their own, and their decision is recorded as theirs on the approver's behalf and counts as the
    approver's. The approver's own link still decides until one of the two has. From the confirmation page's form
    (a script posts the same fields, `to`, `note` and the page's `form_token`); the page shows the result."""
    claims = svc.tokens.read(token, datetime.now(UTC))
    if not svc.tokens.check_form(claims, form_token):
        raise InvalidToken("this form did not come from the approval page: open your link again and hand it on there")
    if not to.strip():
        raise InvalidField("to", "say who takes your decision: their email address")
    if claims.on_behalf_of:
        raise Conflict(f"you decide on behalf of {claims.on_behalf_of}: only they can hand their decision on")
    person = _person(request)
    refused = _not_theirs(person, claims, require_sign_in=False)
    if refused:
        raise refused
    try:
        hand_over = DelegateInput(
            gate=claims.gate, round=claims.round, approver=claims.approver, to=to.strip(), note=note.strip(),
            token_id=claims.token_id, channel=Channel.LINK, signed_in=person is not None,
        )  # fmt: skip
    except ValidationError:
        raise InvalidField("to", f"{to.strip()!r} is not an email address") from None
    try:
        view = await svc.processes.delegate(claims.process_id, hand_over)
    except Conflict as refusal:
        context = await _context(svc, token, request)
        return TEMPLATES.TemplateResponse(request, "approve.html", context | {"refusal": str(refusal)}, status_code=409)
    gate = _gate(view, claims)
    context = _page(view, claims, gate, svc.tokens.form_token(claims)) | {"handed": True}
    return TEMPLATES.TemplateResponse(request, "approve.html", context)
