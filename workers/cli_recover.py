"""`signoff rerun ID STEP --reason …` and `signoff skip ID STEP --reason …`: the owner's word on a step held for
them (a go / no-go rejected, a customer notice unsent, as the template says), through the web service
(``POST /api/processes/{id}/steps/{step}/recover``).

A re-run runs that step alone again (the approvers asked again with the reason, a new notice under a new id);
nothing done before it is done again. A skip goes on without it; an approval gate is not skipped (its approvers
said no: ask them again, or end the process from its page or the API). The reason is required and kept in the
trail.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workers.cli_client import UrlOption, call
from workers.cli_support import fail

MAX_REASON = 2000
"""As the API's (`api.schemas.RecoverRequest`)."""

ProcessArg = Annotated[str, typer.Argument(metavar="ID", help="The process.")]
StepArg = Annotated[str, typer.Argument(metavar="STEP", help="The held step (its key: go-no-go, notice …).")]
ReasonOption = Annotated[str, typer.Option(help="Why; kept in the trail (a re-run tells it to those asked again).")]


def word(process_id: str, step: str, action: str, reason: str, url: str | None) -> None:
    """Send the owner's `action` on `step` with `reason`, and say what became of it; bad input is exit 2."""
    said = reason.strip()
    if not said:
        fail(f"--reason: say why you {'run' if action == 'rerun' else 'skip'} {step}: the trail keeps it")
    if len(said) > MAX_REASON:
        fail(f"--reason: at most {MAX_REASON} characters, not {len(said)}")
    view = call(
        url, "POST", f"/api/processes/{process_id}/steps/{step}/recover", json={"action": action, "reason": said}
    )
    title = next((s["title"] for s in view["steps"] if s["key"] == step), step)
    if action == "rerun":
        typer.echo(f"{title} of {process_id} runs again; nothing done before it is repeated")
    else:
        typer.echo(f"{title} of {process_id} is skipped; the {view['kind']} goes on without it")


def rerun(process_id: ProcessArg, step: StepArg, reason: ReasonOption = "", url: UrlOption = None) -> None:
    """Run a held step again (the process owner or an admin): its approvers asked again, or a new notice sent."""
    word(process_id, step, "rerun", reason, url)


def skip(process_id: ProcessArg, step: StepArg, reason: ReasonOption = "", url: UrlOption = None) -> None:
    """Go on without a held step (not an approval gate: ask its approvers again, or end the process)."""
    word(process_id, step, "skip", reason, url)
