"""A step held for its owner: a failed or rejected step that waits for the process owner's word instead of ending
the process.

When its template says so, a kind calls `Recoverable.hold` where it used to end the process: the step is marked
failed, the trail says ``step_held``, the owner is emailed what failed, why, and what they can do (from the
process page, the API or the CLI), and the process waits, durably, until the hold's limit. The owner's word is
the `recover` update (`domain.updates.RecoverInput`): ``rerun`` the step alone (what was done before it is not
done again), ``skip`` it, or ``end`` the process, each with a reason the trail keeps (``step_rerun``,
``step_skipped``, ``step_ended``). Without a word by the limit, `hold` answers None and the kind ends as it did
before holds (``hold_expired`` first in the trail).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

from domain.enums import ProcessStatus, StepStatus
from domain.errors import BadInput, Conflict, NotFound
from domain.models import RecoveryAction
from domain.rules import local_time
from domain.updates import CancelInput, RecoverInput
from domain.views import HeldStep, ProcessView
from workflows.base import ProcessWorkflow
from workflows.steps.refusal import refuse
from workflows.steps.timers import wait_until

RECORDED_AS: dict[str, str] = {"rerun": "step_rerun", "skip": "step_skipped", "end": "step_ended"}
"""The trail's event for each of the owner's words."""


class Recoverable(ProcessWorkflow):
    """The hold, the owner's word on it (`recover`), and what the view says of it."""

    held: HeldStep | None = None
    """The step held now, if one is."""
    word: RecoverInput | None = None
    """The owner's word on the held step, until the story takes it."""
    holds: int = 0
    """How many holds so far: each one's messages are keyed apart from the others'."""

    async def hold_step(self, step: str, what: str, why: str, days: int, skippable: bool = True) -> RecoverInput | None:
        """Hold `step` (`what` happened, `why`) for the owner for up to `days`: their word, or None when it did not
        come in time. `skippable` False for an approval gate (see `_check_recover`)."""
        now, self.holds = workflow.now(), self.holds + 1
        actions: list[RecoveryAction] = ["rerun", "skip", "end"] if skippable else ["rerun", "end"]
        self._finish_step(step, StepStatus.FAILED)
        held = HeldStep(
            step=step, title=self.steps[step].title, what=what, why=why, since=now, until=now + timedelta(days=days),
            actions=actions,
        )  # fmt: skip
        self.held, self.word, self.status = held, None, ProcessStatus.WAITING
        until = local_time(held.until, self.input.params.time_zone)
        await self.audit.record("step_held", step=step, what=what, reason=why, until=held.until.isoformat(),
                                actions=actions)  # fmt: skip
        await self.outbound.email(
            f"held:{step}:{self.holds}", "step_held", [self.owner], step, held_step=step, step_title=held.title,
            what=what, why=why, until=until, actions=actions,
        )  # fmt: skip
        await wait_until(lambda: self.word is not None, held.until)
        word, self.held, self.word, self.status = self.word, None, None, ProcessStatus.RUNNING
        if word is None:
            await self.audit.record("hold_expired", step=step, until=held.until.isoformat())
            return None
        await self.audit.record(RECORDED_AS[word.action], actor=word.by, channel=word.channel, step=step,
                                reason=word.reason)  # fmt: skip
        if word.action == "skip":
            self._finish_step(step, StepStatus.SKIPPED)
            await self.outbound.email(
                f"skipped:{step}:{self.holds}", "step_skipped", [self.owner], step, step_title=held.title, what=what,
                by=word.by, reason=word.reason,
            )  # fmt: skip
        elif word.action == "rerun":
            self._start_step(step)
        return word

    async def end_held(self, word: RecoverInput, what: str) -> None:
        """End the process rejected, as the owner said (`word`), after `what` happened."""
        reason = f"{what}; {word.by} ended it: {word.reason}"
        await self.wind_down(ProcessStatus.REJECTED, CancelInput(by=word.by, reason=reason, channel=word.channel))

    @workflow.update
    async def recover(self, input: RecoverInput) -> ProcessView:
        """The owner's word on the held step: ``rerun`` it, ``skip`` it or ``end`` the process, with a reason.
        Answers once the process has taken it (the step running again, skipped, or the process ending)."""
        self.word = input
        await workflow.wait_condition(lambda: self.held is None)
        return self.view()

    @recover.validator
    def _check_recover(self, input: RecoverInput) -> None:
        """Refuse a word on a step that is not held, a second word, a blank reason, and a skip of an approval gate.

        A refused approval is not skipped: the approvers said no to going on, and skipping their gate would go on
        without them. The owner fixes what they objected to and asks them again (``rerun``), or ends the process.
        """
        held = self.held
        if self.status.finished or self.cancel_request:
            raise refuse(Conflict(f"the {self.noun} is {self.status.value if self.status.finished else 'ending'}"))
        if input.step not in self.steps:
            raise refuse(NotFound(f"the {self.noun} has no step {input.step!r}"))
        if held is None or held.step != input.step:
            now = f"; {held.title} is" if held else ""
            raise refuse(Conflict(f"{self.steps[input.step].title} is not held for your word{now}"))
        if self.word is not None:
            raise refuse(Conflict(f"{held.title} has had its word already ({self.word.action}); look again"))
        if not input.reason.strip():
            raise refuse(
                BadInput(f"reason: say why you {_verb(input.action, held.title, self.noun)}: the trail keeps it")
            )
        if input.action not in held.actions:
            raise refuse(
                Conflict(
                    f"{held.title} is an approval: a refused approval is not skipped; ask the approvers again "
                    "(rerun) or end it"
                )
            )

    def process_view(self, **own: Any) -> ProcessView:
        """The shared view, with the step held now (none once the process has ended)."""
        return super().process_view(held=None if self.status.finished else self.held, **own)


def _verb(action: str, title: str, noun: str) -> str:
    """What the owner asks, in words: "run Go / no-go again", "skip Customer notice", "end the launch"."""
    return {"rerun": f"run {title} again", "skip": f"skip {title}"}.get(action, f"end the {noun}")
