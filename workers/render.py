"""Plain-text views of API answers for the CLI."""

from __future__ import annotations

from typing import Any

import typer


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
            [[r["id"], r["status"], r["kind"], r["owner"], str(r["started_at"])[:16]] for r in rows],
            ["ID", "STATUS", "KIND", "OWNER", "STARTED"],
        )
    )


def print_process(view: dict[str, Any]) -> None:
    """One process: header, steps, checklist, gates."""
    typer.echo(f"{view['title']}  [{view['status']}]")
    typer.echo(f"id {view['id']} · owner {view['owner']}" + (f" · {view['outcome']}" if view.get("outcome") else ""))
    typer.echo("\nSteps")
    typer.echo(
        table([[s["title"], s["status"], (s.get("at") or "")[:16]] for s in view["steps"]], ["STEP", "STATE", "SINCE"])
    )
    if view.get("content"):
        content = view["content"]
        typer.echo(f"\nMessage, version {content['version']} (content hash {content['content_hash'][:12]})")
        typer.echo(f"Subject: {content['subject']}\n\n{content['body']}")
    if view.get("items"):
        done = sum(1 for i in view["items"] if i["status"] == "done")
        typer.echo(f"\nChecklist ({done} of {len(view['items'])} done)")
        typer.echo(
            table(
                [[i["key"], i["status"], i["owner"], i["due"], i.get("issue_key") or ""] for i in view["items"]],
                ["ITEM", "STATE", "OWNER", "DUE", "ISSUE"],
            )
        )
    for gate in view.get("gates", []):
        typer.echo(
            f"\n{gate['title']}  [{gate['status']}]  round {gate['round']}, {gate['required']} approval(s) needed"
        )
        for d in gate["decisions"]:
            comment = f" — {d['comment']}" if d.get("comment") else ""
            typer.echo(f"  {d['approver']}: {d['decision']} at {d['at'][:16]}{comment}")


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
