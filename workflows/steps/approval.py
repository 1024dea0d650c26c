"""An approval gate: approvers, a policy, and the decisions taken.

The validator refuses what must not be recorded — an unknown approver, a
second decision, a closed gate, the owner approving their own gate — before
anything lands in the workflow's history.
"""

from __future__ import annotations

from datetime import datetime

from domain.enums import Decision, GateStatus
from domain.errors import Conflict, Expired, NotFound, Unauthenticated
from domain.models import ApprovalRecord, DecisionInput, GateState, Policy
from domain.rules import gate_outcome, required_approvals
from domain.templates import GateTemplate, ReviewTemplate
from workflows.steps.refusal import refuse


class ApprovalGate:
    """One gate of a process, possibly opened for several rounds."""

    def __init__(self, state: GateState, owner: str, allow_owner_approval: bool) -> None:
        self.state = state
        self.owner = owner
        self.allow_owner_approval = allow_owner_approval

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
        return cls(state, owner=owner, allow_owner_approval=allow_owner_approval)

    def open(self, at: datetime, expires_at: datetime) -> None:
        """Open the gate (again, as a new round, after a reopen)."""
        if self.state.status != GateStatus.PENDING:
            self.state.round += 1
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
        if decision.approver not in state.approvers:
            raise refuse(NotFound(f"{decision.approver} is not an approver of {state.title}"))
        if decision.round is not None and decision.round != state.round:
            raise refuse(
                Expired(f"this request was replaced by a newer one (round {state.round}); use the latest email")
            )
        earlier = state.decision_of(decision.approver)
        if earlier:
            raise refuse(
                Conflict(
                    f"{earlier.approver} already decided {earlier.decision.value!r} at {earlier.at:%Y-%m-%d %H:%M} UTC"
                )
            )
        if state.status != GateStatus.OPEN:
            raise refuse(Conflict(f"{state.title} is {state.status.value}, not open for decisions"))
        if decision.approver == self.owner and not self.allow_owner_approval:
            raise refuse(Conflict("the process owner cannot decide their own gate"))
        if state.require_sign_in and not decision.signed_in:
            raise refuse(Unauthenticated(f"{state.title} needs {decision.approver} to sign in before deciding"))

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
