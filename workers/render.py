"""Plain-text views of API answers for the CLI."""

from __future__ import annotations

from typing import Any

import typer

from domain.enums import GateStatus
from domain.views import GateState
from domain.words import approvals_of, count, gate_summary, label, received


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def print_processes(rows: list[dict[str, Any]]) -> None:
    """The process list."""
    if not rows:
        typer.echo("no processes")
        return
    typer.echo(
        table(
            [
                [
                    r["id"],
                    label(r["status"], "process"),
                    str(r.get("overdue") or ""),
                    r["kind"],
                    r["owner"],
                    str(r["started_at"])[:16],
                ]
                for r in rows
            ],
            ["ID", "STATUS", "OVERDUE", "KIND", "OWNER", "STARTED"],
        )
    )


def print_process(view: dict[str, Any]) -> None:
    """One process: header, steps, checklist, gates."""
    typer.echo(f"{view['title']}  [{label(view['status'], 'process')}]")
    typer.echo(f"id {view['id']} · owner {view['owner']}" + (f" · {view['outcome']}" if view.get("outcome") else ""))
    for waiting in view.get("waiting_on", []):
        typer.echo(f"waiting on {waiting['person']}: {waiting['why']}")
    if view.get("next"):
        upcoming = view["next"]
        when = (upcoming.get("at") or "")[:16].replace("T", " ") + " UTC" if upcoming.get("at") else upcoming["on"]
        typer.echo(f"next: {upcoming['what']} · {when}")
    typer.echo("\nSteps")
    typer.echo(
        table(
            [[s["title"], label(s["status"], "step"), (s.get("at") or "")[:16]] for s in view["steps"]],
            ["STEP", "STATE", "SINCE"],
        )
    )
    if view.get("content"):
        content = view["content"]
        typer.echo(f"\nMessage, version {content['version']} (content hash {content['content_hash'][:12]})")
        typer.echo(f"Subject: {content['subject']}\n\n{content['body']}")
    if view.get("items"):
        done = sum(1 for i in view["items"] if i["status"] == "done")
        typer.echo(f"\nChecklist ({done} of {count(len(view['items']), 'item')} done)")
        typer.echo(
            table(
                [
                    [i["key"], label(i["status"], "item"), i["owner"], i["due"], i.get("issue_key") or ""]
                    for i in view["items"]
                ],
                ["ITEM", "STATE", "OWNER", "DUE", "ISSUE"],
            )
        )
    for gate in (GateState.model_validate(g) for g in view.get("gates", [])):
        where = gate_summary(gate) if gate.status == GateStatus.OPEN else received(approvals_of(gate), gate.required)
        typer.echo(f"\n{gate.title}  [{label(gate.status)}]  round {gate.round}: {where}")
        for d in gate.decisions:
            comment = f" — {d.comment}" if d.comment else ""
            typer.echo(f"  {d.approver}: {label(d.decision)} at {d.at:%Y-%m-%d %H:%M}{comment}")


def print_audit(events: list[dict[str, Any]], with_process: bool = False) -> None:
    """An audit trail as a table (with a PROCESS column for events of several processes)."""
    if not events:
        typer.echo("no audit events")
        return
    rows = [[str(e["seq"]), e["at"][:19], e["actor"], e["channel"], e["action"], e.get("step") or ""] for e in events]
    headers = ["SEQ", "AT", "ACTOR", "VIA", "ACTION", "STEP"]
    if with_process:
        rows = [[e["process_id"], *row] for e, row in zip(events, rows, strict=True)]
        headers = ["PROCESS", *headers]
    typer.echo(table(rows, headers))


def print_work(work: dict[str, Any]) -> None:
    """Someone's work (``GET /api/mine``): overdue first, then by due date; their approval pages after it."""
    entries = work["entries"]
    if not entries:
        typer.echo(f"nothing waits on {work['person']} in a running process")
        return
    typer.echo(f"what waits on {work['person']} (today is {work['today']}, UTC)\n")
    rows = [
        [
            (e.get("due_at") or "")[:16].replace("T", " ") or (e.get("due") or ""),
            "overdue" if e["overdue"] else "",
            f"{e['what']} {e['key']}: {e['title']}",
            e["process"]["id"],
        ]
        for e in entries
    ]
    typer.echo(table(rows, ["DUE", "", "WHAT", "PROCESS"]))
    links = [e for e in entries if e.get("approval_link")]
    if links:
        typer.echo("\nyour approval pages (links are yours alone: do not pass them on)")
        for e in links:
            typer.echo(f"  {e['process']['id']} {e['key']}: {e['approval_link']}")
