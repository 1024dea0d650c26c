"""Editing a running process: the `edit` update, answered at once, its follow-ups beside the story.

`EditableProcess` is the base of the gate's and the checklist's mixins (`workflows.steps.gate`,
`workflows.steps.tracked`); each part of an edit is handled by the class that owns it, through three hooks
every class extends and passes on with ``super()``:

- `editable`: the parts of an `domain.edits.EditInput` it takes (``approvers``, ``owners``, ``launch_date``);
- `edit_changes`: check its parts against the process as it stands and say what they change (the validator
  and the handler both ask it; it changes nothing);
- `apply_edit`: make its changes at once, and hand back what is to be done beside the story (the tracker
  told, the people told, the new approvers asked).

A change of dates bumps `plan_changes`: every wait that depends on a date races it and plans again
(`workflows.steps.timers.wait_until_planned`). Until a process is edited those waits start the timers they
always did, so histories recorded before edits existed replay unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow

from domain.edits import Change, Edited, EditInput
from domain.enums import StepStatus
from domain.errors import Conflict, InvalidField, SignoffError
from workflows.base import ProcessWorkflow
from workflows.steps.refusal import refuse

EDITS = "process-edits"
"""The patch marking a process edited along the way (recorded with its first edit): what an edit sets going —
plans worked out again, the tracker and the people told — is new in its history; a later change to how edits
work branches on it."""

FollowUp = Callable[[], Awaitable[None]]
"""Something an edit sets going beside the story (the tracker told, someone emailed): called only when its turn
comes, so an edit cut short by a cancel leaves nothing half-made behind."""

PARTS = {"launch_date": "launch date", "announce_date": "announcement", "end_of_sale": "end of sale",
         "end_of_support": "end of support", "shutdown_date": "shutdown date", "send_at": "send time",
         "approvers": "approvers", "owners": "checklist items", "add_items": "checklist items",
         "remove_items": "checklist items"}  # fmt: skip
"""How a refusal names each part of an edit."""


class EditableProcess(ProcessWorkflow):
    """The `edit` update; the gate, the checklist and a kind add what they can change."""

    plan_changes: int = 0
    """Bumped when an edit moves a date: the waits that depend on one plan again."""
    edits: int = 0
    """How many edits were made: each one's messages are keyed apart."""

    # ---- hooks -----------------------------------------------------------------

    def editable(self) -> set[str]:
        """The parts of an edit this process takes (each mixin adds its own)."""
        return set()

    def edit_changes(self, input: EditInput) -> list[Change]:
        """Check the parts of `input` this class owns and say what they change; raise a refusal if one may not."""
        return []

    def edit_refusal(self, input: EditInput) -> SignoffError | None:
        """Why `input` may not be made now, beyond what `edit_changes` checks: a rule the validator alone holds,
        so that a history recorded before the rule replays as it ran (validators do not run on replay). But an
        edit passed on by a parent (`workflows.comms_edits.MessageEdits.edit_passed_on`, a signal) is checked by
        the whole validator (`_check_edit`: these rules, `edit_changes`, the process's state) inside the signal's
        handler, which does run on replay: a change to any of them that could refuse what they took, or take what
        they refused, goes behind a patch."""
        return None

    def apply_edit(self, input: EditInput, tag: str) -> list[FollowUp]:
        """Make this class's changes of `input` now; return what is to be done beside the story (keyed by `tag`)."""
        return []

    def pass_on(self, input: EditInput) -> tuple[list[Change], list[FollowUp]]:
        """What of `input`, once made, goes on to the processes this one started (an end of life's approvers to
        its customer notices): what the answer says of it, and the passing on, beside the story."""
        return [], []

    # ---- the update ------------------------------------------------------------

    @workflow.update
    async def edit(self, input: EditInput) -> Edited:
        """Change the process as `input` says; answers at once with what changed. The trail's ``edited`` event
        (every change, before and after), the tracker and the people told follow beside the story."""
        return self._make_edit(input)

    def _make_edit(self, input: EditInput) -> Edited:
        changes = self.edit_changes(input)
        workflow.patched(EDITS)
        self.edits += 1
        follow_ups = self.apply_edit(input, f"edit-{self.edits}")
        passed, passing = self.pass_on(input)
        for pass_it_on in passing:  # at once, not behind this process's own messages
            self.later(_done(pass_it_on))
        self.later(self._after_edit(input, [*changes, *passed], follow_ups))
        return Edited(changes=[*changes, *passed], view=self.view())

    @edit.validator
    def _check_edit(self, input: EditInput) -> None:
        if self.status.finished or self.cancel_request:
            state = self.status.value if self.status.finished else "being cancelled"
            raise refuse(Conflict(f"the {self.noun} is {state}: it can no longer change"))
        for part in sorted(input.named() - self.editable()):
            article = "an" if self.noun[0] in "aeiou" else "a"
            raise refuse(InvalidField(part, f"{article} {self.noun} has no {PARTS.get(part, part)} to change"))
        kickoff = self.steps.get("kickoff")
        if kickoff is not None and kickoff.status != StepStatus.DONE:
            raise refuse(
                Conflict(f"the {self.noun} is being kicked off (its issues filed, its people told): edit it after")
            )
        self.edit_changes(input)
        refusal = self.edit_refusal(input)
        if refusal is not None:
            raise refuse(refusal)

    async def _after_edit(self, input: EditInput, changes: list[Change], follow_ups: list[FollowUp]) -> None:
        await self.audit.record(
            "edited", actor=input.by, channel=input.channel, changes=[c.model_dump(mode="json") for c in changes],
            reason=input.reason,
        )  # fmt: skip
        for follow_up in follow_ups:  # one after the other: the tracker, then the people, in the trail's order
            await follow_up()


async def _done(follow_up: FollowUp) -> None:
    await follow_up()
