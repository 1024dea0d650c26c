"""Who decides at a gate, as it changes while a process runs: an approver hands their decision on, the gate's
backup is asked in place of the silent, an edit replaces, adds or removes approvers.

`GateHandOvers` is the base of `workflows.steps.gate.GatedProcess`, which runs the rounds; this holds the
`delegate` update and the approvers' part of an edit (`workflows.steps.edits`). A decision taken in someone's
place is recorded "by X on behalf of Y" (`domain.views.ApprovalRecord.on_behalf_of`) and counts as theirs.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from temporalio import workflow

from domain.backups import stand_in_refusal
from domain.edits import Change, EditInput, edited_approvers, outcome_with
from domain.enums import GateStatus
from domain.errors import Conflict, InvalidField, NotFound, SignoffError, Unauthenticated
from domain.updates import DelegateInput
from domain.views import ProcessView
from workflows.steps.edits import EditableProcess, FollowUp
from workflows.steps.refusal import refuse


class GateHandOvers(EditableProcess):
    """The `delegate` update, the backup, and the approvers' edits; `GatedProcess` runs the rounds they act on."""

    gate_step: ClassVar[str]
    """The step the gate is (``go-no-go``, ``review``)."""
    hand_overs: int = 0
    """How many times approvers handed their decision on: each hand-over's request is keyed apart."""

    def gate_interrupted(self) -> bool:
        """Whether something ends the round without an outcome (a new version under review)."""
        return False

    async def request_decisions(
        self,
        approvers: list[str],
        reminder: int = 0,
        asked: tuple[str, str] | None = None,
        note: str = "",
    ) -> None:
        """Ask `approvers` for their decision (`GatedProcess` sends the requests)."""
        raise NotImplementedError

    # ---- someone else decides: a hand-over, the backup ---------------------------------

    @workflow.update
    async def delegate(self, input: DelegateInput) -> ProcessView:
        """An approver hands their decision in this round to someone else, who gets a link of their own and decides
        on their behalf (it counts as the approver's). Answers at once; the trail, the request and the owner's
        email follow beside the story. The approver's own link still decides, until one of the two has."""
        state = self.gate.state
        state.delegates[input.approver] = input.to
        self.hand_overs += 1
        self.later(self.after_hand_over(input, state.round, f"handed-{self.hand_overs}"))
        return self.view()

    @delegate.validator
    def _check_hand_over(self, input: DelegateInput) -> None:
        state = self.gate.state
        if self.status.finished or self.cancel_request:
            raise refuse(Conflict(f"the {self.noun} is {self.status.value}: it takes no decisions"))
        if input.gate != state.key:
            raise refuse(NotFound(f"no gate {input.gate!r} in this process"))
        self.gate.on_the_gate(input.approver)
        refusal = self.gate.delegation_refusal(input.approver, input.to, input.round, self.may_not_decide())
        if refusal is None and self.gate_interrupted():
            refusal = Conflict(f"{state.title} is being asked again about a new version: decide there")
        if refusal is None and state.require_sign_in and not input.signed_in:
            refusal = Unauthenticated(f"{state.title} needs {input.approver} to sign in before handing it on")
        if refusal is not None:
            raise refuse(refusal)

    async def after_hand_over(self, input: DelegateInput, round_: int, tag: str) -> None:
        """The trail; the person asked in the approver's place (if the hand-over still stands); the owner told."""
        state = self.gate.state
        await self.audit.record(
            "delegated", actor=input.approver, channel=input.channel, step=self.gate_step, round=round_,
            approver=input.approver, to=input.to, note=input.note, token_id=input.token_id,
        )  # fmt: skip
        standing = state.delegates.get(input.approver) == input.to
        if state.round == round_ and state.status == GateStatus.OPEN and standing:
            await self.request_decisions([input.approver], asked=(tag, ""), note=input.note)
        sentence = f"{input.approver} handed their decision on {state.title} to {input.to}"
        await self.outbound.email(
            f"{tag}:{input.approver}", "changed", [self.owner], self.gate_step, by=input.approver,
            changes=[sentence], reason=input.note, items=[],
        )  # fmt: skip

    def approver_backups(self) -> dict[str, str]:
        """Each approver's own backup, given at start (the parameters' ``backups``; none before they existed)."""
        return dict(getattr(self.input.params, "backups", None) or {})

    def has_backup(self) -> bool:
        """Whether anyone is asked in a silent approver's place: the gate's backup, or an approver's own."""
        return self.gate.backup is not None or bool(self.approver_backups())

    async def ask_backup(self) -> None:
        """Each approver still silent (and not handed on already) is asked for through their backup: their own
        (`approver_backups`), else the gate's. One person decides once: a backup who is an approver of the gate, or
        may not decide it, is passed over, and the trail says why (`domain.backups.stand_in_refusal`)."""
        state = self.gate.state
        if not workflow.patched("backup-once-per-person"):
            await self.ask_gate_backup_as_before()
            return
        own, kept_out = self.approver_backups(), self.may_not_decide()
        asked: dict[str, list[str]] = {}
        passed_over: dict[str, str] = {}
        for approver in [a for a in state.waiting_on if a not in state.delegates]:
            backup = own.get(approver, self.gate.backup)
            if backup is None or backup == approver:  # the gate's backup is asked as themselves already
                continue
            why = stand_in_refusal(backup, approver, state.approvers, kept_out)
            if why is not None:
                passed_over[approver] = why
            else:
                asked.setdefault(backup, []).append(approver)
        if passed_over:
            await self.audit.record("backup_passed_over", step=self.gate_step, round=state.round, approvers=passed_over)
        for backup, approvers in asked.items():
            state.delegates.update(dict.fromkeys(approvers, backup))
            await self.audit.record(
                "delegated", step=self.gate_step, round=state.round, approvers=approvers, to=backup,
                reason=self.backup_reason(),
            )  # fmt: skip
        if asked:
            await self.request_decisions([a for approvers in asked.values() for a in approvers], asked=("backup", ""))

    def backup_reason(self) -> str:
        """Why a backup is asked, for the trail."""
        days = self.gate.escalate_after_days
        opened = f"{days} day{'s' if days != 1 else ''} after {self.gate.state.title} opened"
        return f"no decision {opened}: its backup is asked"

    async def ask_gate_backup_as_before(self) -> None:
        """A process that asked its gate's backup before `ask_backup` held one person to one decision: the gate's
        backup for every approver still silent but themselves, unless they own the gate (kept so that its history
        replays)."""
        state, backup = self.gate.state, self.gate.backup
        silent = [a for a in state.waiting_on if a not in state.delegates and a != backup]
        if backup is None or not silent or (backup == self.gate.owner and not self.gate.allow_owner_approval):
            return
        for approver in silent:
            state.delegates[approver] = backup
        await self.audit.record(
            "delegated", step=self.gate_step, round=state.round, approvers=silent, to=backup,
            reason=self.backup_reason(),
        )  # fmt: skip
        await self.request_decisions(silent, asked=("backup", ""))

    def may_not_decide(self) -> dict[str, str]:
        """Who may not decide the gate, each with why: its owner and the process's (a post-mortem's review is its
        commander's, the process its owner's), unless the template lets owners approve. An edit refuses them as
        approvers, a hand-over as the one handed to."""
        gate = self.gate
        owners = {gate.owner, self.owner} if not gate.allow_owner_approval else set()
        return {person: f"{person} owns this {self.noun} and cannot decide {gate.state.title}" for person in owners}

    # ---- edits: who decides ----------------------------------------------------------

    def editable(self) -> set[str]:
        """The approvers (or reviewers) of the gate, besides what the other mixins take."""
        return super().editable() | {"approvers"}

    def edit_changes(self, input: EditInput) -> list[Change]:
        """Who joins and leaves the gate: refused once it is approved, for someone not on it (or on it already, or
        who may not decide it), and when its policy could no longer be met."""
        changes = super().edit_changes(input)
        if input.approvers is None or input.approvers.empty:
            return changes
        state = self.gate.state
        if state.status == GateStatus.APPROVED:
            raise refuse(Conflict(f"{state.title} is approved already: who decides it no longer changes"))
        after = self.approvers_after(input)
        left = [a for a in state.approvers if a not in after]
        joined = [a for a in after if a not in state.approvers]
        said = [f"{old} is replaced by {new}" for old, new in input.approvers.replace.items()]
        said += [f"{a} joins" for a in input.approvers.add] + [f"{a} leaves" for a in input.approvers.remove]
        sentence = f"{state.title}: {'; '.join(said)}"
        if state.status == GateStatus.OPEN and (left or joined):
            sentence += f" ({'a decision of those leaving no longer counts; ' if left else ''}{state.required} → "
            sentence += f"{len(after) if state.policy == 'all' else state.required} approvals needed)"
        return [*changes, Change(what="approvers", before=list(state.approvers), after=after, sentence=sentence)]

    def edit_refusal(self, input: EditInput) -> SignoffError | None:
        """One person, one decision: nobody joins the gate while they decide on another approver's behalf in this
        round (they would decide twice: once for them, once as themselves)."""
        refusal = super().edit_refusal(input)
        if refusal is not None or input.approvers is None:
            return refusal
        standing = {to: approver for approver, to in self.gate.state.delegates.items()}
        joins = (("approvers.replace", input.approvers.replace.values()), ("approvers.add", input.approvers.add))
        for field, joining in joins:
            for person in joining:
                if person in standing:
                    return InvalidField(
                        field, f"{person} decides on behalf of {standing[person]} at {self.gate.state.title}: "
                        "one person, one decision",
                    )  # fmt: skip
        return None

    def approvers_after(self, input: EditInput) -> list[str]:
        """The gate's approvers with `input`'s changes, checked (`domain.edits.edited_approvers`)."""
        assert input.approvers is not None
        state = self.gate.state
        try:
            after = edited_approvers(state.approvers, input.approvers, state.policy, self.may_not_decide(), state.title)
            if state.status == GateStatus.OPEN:
                outcome_with(state.policy, after, [d for d in state.decisions if d.round == state.round], state.title)
        except SignoffError as err:
            raise refuse(err) from None
        return after

    def apply_edit(self, input: EditInput, tag: str) -> list[FollowUp]:
        """The gate's new approvers, now; those who joined asked (the gate is open) or told, those who left told."""
        follow_ups = super().apply_edit(input, tag)
        if input.approvers is None or input.approvers.empty:
            return follow_ups
        state = self.gate.state
        before, after = list(state.approvers), self.approvers_after(input)
        self.gate.change_approvers(after)
        self.name_approvers(after, input.approvers.replace)
        left, joined = [a for a in before if a not in after], [a for a in after if a not in before]
        return [*follow_ups, partial(self.tell_approvers, left, joined, state.round, tag, input)]

    def name_approvers(self, approvers: list[str], replaced: dict[str, str]) -> None:
        """The process's parameters name the gate's new approvers (a message's reviewers keep their roles: a
        replacement takes the role of the one replaced)."""
        params = self.input.params
        field = "reviewers" if hasattr(params, "reviewers") else "approvers"
        current = getattr(params, field)
        value: list[Any] = list(approvers)
        if current and not isinstance(current[0], str):  # reviewers with roles
            by_email = {r.email: r for r in current} | {new: by_email_of(current, old) for old, new in replaced.items()}
            value = [by_email[a].model_copy(update={"email": a}) if a in by_email else type(current[0])(email=a)
                     for a in approvers]  # fmt: skip
        self.input.params = params.model_copy(update={field: value})

    async def tell_approvers(self, left: list[str], joined: list[str], round_: int, tag: str, input: EditInput) -> None:
        """Those who left hear that their link no longer decides (and their chat request loses its buttons);
        those who joined get their request if the round is open, else hear they will be asked."""
        state = self.gate.state
        open_now = state.status == GateStatus.OPEN and state.round == round_
        for person in left:
            if open_now:
                await self.outbound.settle_approval_request(
                    state.key, round_, person, self.gate_step, decision=None, gate_title=state.title,
                    gate_status=GateStatus.CLOSED.value,
                )  # fmt: skip
            await self.outbound.email(
                f"{tag}:left:{person}", "changed", [person], self.gate_step, by=input.by, reason=input.reason,
                changes=[f"you are no longer asked to decide on {state.title}: your link no longer works"], items=[],
            )  # fmt: skip
        if joined and open_now:
            await self.request_decisions(joined, asked=(tag, input.by))
        elif joined:
            sentence = f"you are asked to decide on {state.title} when it opens"
            await self.outbound.email(
                f"{tag}:joined", "changed", joined, self.gate_step, by=input.by, reason=input.reason,
                changes=[sentence], items=[],
            )  # fmt: skip


def by_email_of(reviewers: list[Any], email: str) -> Any:
    """The reviewer `email` of a message's `reviewers`."""
    return next(r for r in reviewers if r.email == email)
