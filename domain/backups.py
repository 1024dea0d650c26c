"""Who is asked in a silent approver's place: the start's rules and the gate's choice.

A gate's approver who has not decided `escalate_after_days` after a round opened is asked through a backup:

- their own, given at start (a process's ``backups``: ``{"vp@acme.com": "deputy-vp@acme.com"}``), which wins;
- else the gate's, from its template: ``backup`` (an email) or ``backup_role`` (a checklist role, ``support``:
  the person the process names for it in ``owners``, resolved when it starts, `with_role_backup`).

The backup's decision is recorded "by X on behalf of Y" and counts as Y's, as a hand-over's does. One person
decides once: a backup who is an approver of the gate themselves is not asked in anyone's place (a start
refuses such a ``backups`` entry; a gate's backup who is, or becomes, an approver is passed over, and the trail
says so), and neither is anyone who may not decide the gate (its owner, unless the template allows it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.errors import InvalidField


def _listed(people: Sequence[str]) -> str:
    return f"{', '.join(people[:-1])} and {people[-1]}" if len(people) > 1 else "".join(people)


def backup_problems(
    backups: Mapping[str, str], approvers: Sequence[str], kept_out: Mapping[str, str], field: str = "approvers"
) -> list[InvalidField]:
    """What is wrong with a start's `backups`, every entry at once: an approver not among `approvers` (the
    parameter `field` names them), a backup who is the approver, another approver (one person, one decision), or
    one of `kept_out` (who may not decide the gate, each with why).

    >>> [e.reason for e in backup_problems({"x@a.com": "y@a.com"}, ["vp@a.com"], {})]
    ['x@a.com is not one of the approvers (vp@a.com): only an approver has a backup']
    """
    problems = []
    for approver, backup in backups.items():
        if approver not in approvers:
            reason = f"{approver} is not one of the {field} ({_listed(approvers)}): only an approver has a backup"
        elif backup == approver:
            reason = f"{approver} cannot be their own backup: name someone else, or leave them out"
        elif backup in approvers:
            reason = f"{backup}, named as {approver}'s backup, is one of the {field} already: one person, one decision"
        elif backup in kept_out:
            reason = f"{backup}, named as {approver}'s backup: {kept_out[backup]}"
        else:
            continue
        problems.append(InvalidField("backups", reason))
    return problems


def role_backup(gate: Any, owners: Mapping[str, str], owner: str) -> str | None:
    """The person a gate's `backup_role` names for a process whose roles are `owners`: the one named for the
    role, else the gate's `backup` address (its fallback), else the owner when the gate lets them decide; None
    when nobody may stand in (`role_backup_problems` refuses that start)."""
    role = gate.backup_role
    if role in owners:
        return owners[role]
    if gate.backup is not None:
        return str(gate.backup)
    return owner if gate.allow_owner_approval else None


def role_backup_problems(gate: Any, owners: Mapping[str, str], owner: str, template: str) -> list[InvalidField]:
    """A start refused because its gate's `backup_role` falls to nobody who may decide: the process names nobody
    for the role, the template gives no fallback address, and the owner it would fall to may not decide."""
    if gate.backup_role is None or role_backup(gate, owners, owner) is not None:
        return []
    return [
        InvalidField(
            "owners",
            f"template {template!r} names the {gate.backup_role} role as {gate.title}'s backup, but owners names "
            f"nobody for {gate.backup_role}: it would fall to the owner {owner}, who cannot decide {gate.title}; "
            f"name someone (owners.{gate.backup_role})",
        )
    ]


def with_role_backup(template: Any, owners: Mapping[str, str], owner: str) -> Any:
    """`template` with its gate's `backup_role` resolved into its `backup` address, for the process's copy: the
    workflow reads one address, and an edit of ``owners`` later does not change who stands in."""
    gate = template.gate
    if gate.backup_role is None:
        return template
    resolved = gate.model_copy(update={"backup": role_backup(gate, owners, owner)})
    return template.model_copy(update={"gate": resolved})


def stand_in_refusal(backup: str, approver: str, approvers: Sequence[str], kept_out: Mapping[str, str]) -> str | None:
    """Why `backup` may not be asked in `approver`'s place while the gate runs, if they may not: the start's
    rules, held again, since an edit may have made the backup an approver since (the gate's backup, when it is
    `approver` themselves, is no stand-in: `ask_backup` leaves them be)."""
    if backup in approvers:
        return f"{backup} is an approver of this gate: one person, one decision"
    return kept_out.get(backup)
