"""Remind now: a person asks the process to remind the people it waits on at once (the `remind_now` update),
at most once per `REMIND_COOLDOWN`.

`RemindNow` is part of every gated process (`workflows.steps.gate.GatedProcess`); whom it reminds, and how,
comes from the base class's hooks (`ProcessWorkflow.waiting`, `remind_waiting`) that the gate and the
checklist fill in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from domain.errors import Conflict
from domain.rules import local_time
from domain.updates import Reminded, RemindInput
from workflows.base import ProcessWorkflow
from workflows.steps.refusal import refuse

REMIND_COOLDOWN = timedelta(hours=1)
"""How long after a reminder someone asked for (`remind_now`) the next ask is refused.

Each ask emails everyone the process waits on: a button pressed twelve times in ten seconds sent people a dozen
emails each. An hour lets a person remind again the same day without letting a burst through; the scheduled
reminders are not counted against it and go on as planned.
"""


class RemindNow(ProcessWorkflow):
    """The `remind_now` update, its validator and its cooldown."""

    reminding: bool = False
    """A reminder asked for by a person is being sent (`remind_now`); a second waits until it is out."""
    reminders_asked: int = 0
    """How many reminders people asked for: each one's messages are keyed apart from the others' and the
    scheduled ones'."""
    reminder_asked_at: datetime | None = None
    """When the last reminder someone asked for was accepted: the next is refused until `REMIND_COOLDOWN` after."""

    @workflow.update
    async def remind_now(self, input: RemindInput) -> Reminded:
        """Remind the people the process waits on now, with the messages the scheduled reminders send: the
        approvers the open gate waits on, the owners of the open items. Answers at once with who; the
        messages go out beside the story, each once, after the trail's ``remind_requested``. Refused within
        `REMIND_COOLDOWN` of the last one asked for."""
        waiting = self.waiting()
        self.reminding, self.reminders_asked = True, self.reminders_asked + 1
        self.reminder_asked_at = workflow.now()
        self.later(self._remind(waiting, f"asked-{self.reminders_asked}", input))
        return waiting

    @remind_now.validator
    def _check_remind_now(self, input: RemindInput) -> None:
        if self.status.finished or self.cancel_request:
            state = self.status.value if self.status.finished else "being cancelled"
            raise refuse(Conflict(f"the {self.noun} is {state}: it waits on nobody"))
        if self.reminding:
            raise refuse(Conflict("a reminder is being sent already; look again in a moment"))
        if self.reminder_asked_at is not None and workflow.now() < self.reminder_asked_at + REMIND_COOLDOWN:
            raise refuse(Conflict(self._remind_cooldown_sentence(self.reminder_asked_at)))
        if self.waiting().nobody:
            raise refuse(
                Conflict(f"the {self.noun} waits on nobody now: no decision is awaited, no open item on its owner")
            )

    def _remind_cooldown_sentence(self, asked_at: datetime) -> str:
        """Why a reminder asked for at `asked_at` holds off the next, and when it may be asked (to the minute after,
        in the process's time zone)."""
        zone, again = self.input.params.time_zone, asked_at + REMIND_COOLDOWN
        if again.second or again.microsecond:
            again = again.replace(second=0, microsecond=0) + timedelta(minutes=1)
        asked, then = local_time(asked_at, zone), local_time(again, zone)
        return f"a reminder was asked for at {asked} already: ask again from {then}"

    async def _remind(self, waiting: Reminded, tag: str, input: RemindInput) -> None:
        try:
            await self.audit.record(
                "remind_requested", actor=input.by, channel=input.channel, approvers=waiting.approvers,
                owners=waiting.owners,
            )  # fmt: skip
            await self.remind_waiting(waiting, tag, input.by)
        finally:
            self.reminding = False
