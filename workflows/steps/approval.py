"""An approval gate: approvers, a policy, and the decisions taken.

The validator refuses what must not be recorded — an unknown approver, a
second decision, a closed gate, the owner approving their own gate — before
anything lands in the workflow's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain.enums import Decision, GateStatus
from domain.errors import Conflict, Expired, NotFound, SignoffError, Unauthenticated
from domain.models import Policy
from domain.rules import gate_outcome, required_approvals
from domain.templates import GateTemplate, ReviewTemplate
from domain.updates import DecisionInput
from domain.views import ApprovalRecord, GateState
from workflows.steps.refusal import refuse


class ApprovalGate:
    """One gate of a process, possibly opened for several rounds."""

    def __init__(
        self,
        state: GateState,
        owner: str,
        allow_owner_approval: bool,
        backup: str | None = None,
        escalate_after_days: int = 2,
    ) -> None:
        self.state = state
        self.owner = owner
        self.allow_owner_approval = allow_owner_approval
        self.backup = backup
        """Who is asked for the approvers still silent `escalate_after_days` into a round (the template's)."""
        self.escalate_after_days = escalate_after_days

    @classmethod
    def new(
        cls,
        template: GateTemplate | ReviewTemplate,
        approvers: list[str],
        policy: Policy,
        owner: str,
        allow_owner_approval: bool = False,
    ) -> ApprovalGate:
        """A gate not opened yet, as its template names it; `owner` may not decide it unless
        `allow_owner_approval`."""
        state = GateState(
            key=template.key,
            title=template.title,
            approvers=approvers,
            policy=policy,
            required=required_approvals(policy, len(approvers)),
            require_sign_in=template.require_sign_in,
        )
        return cls(
            state, owner=owner, allow_owner_approval=allow_owner_approval, backup=template.backup,
            escalate_after_days=template.escalate_after_days,
        )  # fmt: skip

    def open(self, at: datetime, expires_at: datetime) -> None:
        """Open the gate (again, as a new round, after a reopen: decisions handed on held for the last round)."""
        if self.state.status != GateStatus.PENDING:
            self.state.round += 1
            self.state.delegates = {}
        self.state.status = GateStatus.OPEN
        self.state.opened_at = at
        self.state.expires_at = expires_at

    def close(self, status: GateStatus) -> None:
        """Close the gate without more decisions (expired, cancelled)."""
        if not self.state.status.decided:
            self.state.status = status

    def validate(self, decision: DecisionInput) -> None:
        """Refuse a decision that must not be recorded.

        Raises:
            ApplicationError: ``NotFound`` (no such gate or approver), ``Expired`` (a request of an
                earlier round) or ``Conflict``.
        """
        state = self.state
        if decision.gate != state.key:
            raise refuse(NotFound(f"no gate {decision.gate!r} in this process"))
        whom = self.on_the_gate(decision.approver, decision.on_behalf_of)
        if decision.round is not None and decision.round != state.round:
            raise refuse(
                Expired(f"this request was replaced by a newer one (round {state.round}); use the latest email")
            )
        earlier = state.decision_of(whom)
        if earlier:
            by = f" on behalf of {whom}" if earlier.on_behalf_of else ""
            raise refuse(
                Conflict(
                    f"{earlier.approver} already decided {earlier.decision.value!r}{by} at "
                    f"{earlier.at:%Y-%m-%d %H:%M} UTC"
                )
            )
        if state.status != GateStatus.OPEN:
            raise refuse(Conflict(f"{state.title} is {state.status.value}, not open for decisions"))
        if decision.approver == self.owner and not self.allow_owner_approval:
            raise refuse(Conflict("the process owner cannot decide their own gate"))
        if state.require_sign_in and not decision.signed_in:
            raise refuse(Unauthenticated(f"{state.title} needs {decision.approver} to sign in before deciding"))

    def on_the_gate(self, person: str, on_behalf_of: str | None = None) -> str:
        """The approver whose decision `person` takes (themselves, or `on_behalf_of` as their delegate).

        Raises:
            ApplicationError: ``Expired`` for someone an edit took off the gate, or a delegate whose approver took
                the hand-over back or gave it to someone else (their link no longer decides); ``NotFound`` for
                someone never on it.
        """
        state, whom = self.state, on_behalf_of or person
        if whom in state.removed:
            raise refuse(
                Expired(f"{whom} is no longer an approver of {state.title}: the process owner changed its approvers")
            )
        if whom not in state.approvers:
            raise refuse(NotFound(f"{whom} is not an approver of {state.title}"))
        if on_behalf_of is not None and on_behalf_of not in state.delegates:
            raise refuse(NotFound(f"{on_behalf_of} has not handed their decision on {state.title} to {person}"))
        if on_behalf_of is not None and state.delegates[on_behalf_of] != person:
            raise refuse(Expired(f"{on_behalf_of} no longer hands their decision on {state.title} to {person}"))
        return whom

    def record(self, decision: DecisionInput, at: datetime) -> ApprovalRecord:
        """Validate and keep a decision, then settle the gate if the policy is met."""
        self.validate(decision)
        record = ApprovalRecord(
            gate=self.state.key,
            round=self.state.round,
            approver=decision.approver,
            decision=decision.decision,
            comment=decision.comment,
            at=at,
            channel=decision.channel,
            token_id=decision.token_id,
            on_behalf_of=decision.on_behalf_of,
        )
        self.state.decisions.append(record)
        outcome = gate_outcome(
            self.state.policy,
            self.state.approvers,
            (d for d in self.state.decisions if d.round == self.state.round),
        )
        if outcome != GateStatus.OPEN:
            self.state.status = outcome
        return record

    def change_approvers(self, approvers: list[str]) -> None:
        """Let `approvers` decide from now on (an edit, checked by `domain.edits.edited_approvers`): those who left
        are `removed` (their links stop deciding, their hand-overs go), this round's decisions of those left count,
        and an open round settles if its policy is now met."""
        state = self.state
        gone = [a for a in state.approvers if a not in approvers]
        state.removed = [p for p in state.removed if p not in approvers] + gone
        state.delegates = {a: d for a, d in state.delegates.items() if a in approvers}
        state.approvers = approvers
        state.required = required_approvals(state.policy, len(approvers))
        if state.status == GateStatus.OPEN:
            this_round = [d for d in state.decisions if d.round == state.round]
            outcome = gate_outcome(state.policy, approvers, this_round)
            if outcome != GateStatus.OPEN:
                state.status = outcome

    def delegation_refusal(
        self, approver: str, to: str, round_: int | None, may_not_decide: Mapping[str, str]
    ) -> SignoffError | None:
        """Why `approver` may not hand their decision to `to` now, if they may not: `may_not_decide` names who may
        not decide the gate and why (its owner and the process's: `GateHandOvers.may_not_decide`, which an edit
        refuses as approvers too); a fellow approver would decide twice."""
        state = self.state
        if state.status != GateStatus.OPEN:
            return Conflict(f"{state.title} is {state.status.value}, not open for decisions")
        if round_ is not None and round_ != state.round:
            return Expired(f"this request was replaced by a newer one (round {state.round}); use the latest email")
        earlier = state.decision_of(approver)
        if earlier:
            return Conflict(f"{earlier.approver} already decided {earlier.decision.value!r} for {approver}")
        if to == approver:
            return Conflict("hand your decision to someone else, not to yourself")
        if to in may_not_decide:
            return Conflict(may_not_decide[to])
        if to in state.approvers:
            return Conflict(f"{to} is an approver of this gate already: one person, one decision")
        if state.delegates.get(approver) == to:
            return Conflict(f"{approver} has handed their decision to {to} already")
        if to in state.removed:
            return Conflict(f"{to} was taken off {state.title}: they no longer decide it, for anyone")
        holds = [a for a, d in state.delegates.items() if d == to and a != approver]
        if holds:
            return Conflict(f"{to} decides on behalf of {holds[0]} already: one person, one decision")
        return None

    @property
    def decided(self) -> bool:
        """Whether this round has an outcome."""
        return self.state.status.decided

    @property
    def approvals(self) -> int:
        """Approvals in this round."""
        return sum(1 for d in self.state.decisions if d.round == self.state.round and d.decision == Decision.APPROVE)

    def rejections(self) -> list[ApprovalRecord]:
        """This round's decisions that were not approvals, with their comments."""
        return [d for d in self.state.decisions if d.round == self.state.round and d.decision != Decision.APPROVE]
