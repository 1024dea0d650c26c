"""The `signoff` commands that only read: list, mine and show a process, its audit trail (printed, searched or
every chain verified) and its evidence report.

All but `audit verify`, which reads the stack's store, ask the web service. They are plain functions;
`workers.cli` registers them on the app, in the order `signoff --help` lists them.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.audit import AUDIT_CSV_COLUMNS, audit_csv_row
from domain.enums import ProcessStatus
from domain.kinds import KINDS
from workers.api_client import CliError
from workers.cli_client import DataDirOption, UrlOption, api, call
from workers.cli_support import fail, local_settings, one_of
from workers.render import print_audit, print_process, print_processes, print_work


def list_(
    status: Annotated[str | None, typer.Option(help=f"Only this status: {', '.join(ProcessStatus)}.")] = None,
    kind: Annotated[str | None, typer.Option(help=f"Only this kind: {', '.join(KINDS)}.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only running processes with an overdue item.")] = False,
    url: UrlOption = None,
) -> None:
    """List processes, newest first, each with how many of its items are overdue."""
    one_of("--status", status, ProcessStatus)
    one_of("--kind", kind, KINDS)
    wanted = {"status": status, "kind": kind, "owner": owner, "overdue": "true" if overdue else None}
    filters = {k: v for k, v in wanted.items() if v}
    print_processes(call(url, "GET", "/api/processes", params=filters))


def mine(
    person: Annotated[str | None, typer.Option(help="Someone else's work (an admin only).")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    url: UrlOption = None,
) -> None:
    """What waits on you across the running processes: your open items, decisions and messages to review."""
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    work = call(url, "GET", "/api/mine", params={"person": person} if person else None)
    if format == "json":
        typer.echo(json.dumps(work, indent=2))
    else:
        print_work(work)


def show(process_id: Annotated[str, typer.Argument(metavar="ID")], url: UrlOption = None) -> None:
    """Show a process: steps, checklist, approvals."""
    print_process(call(url, "GET", f"/api/processes/{process_id}"))


def audit(
    target: Annotated[
        str | None,
        typer.Argument(metavar="[ID|verify]", help="A process id; `verify` checks every chain; none: every process."),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only events by this actor.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only events of this action: decision, message_sent …")] = None,
    since: Annotated[
        str | None, typer.Option("--from", metavar="TIME", help="At or after: 2026-12-01 (UTC) or ISO 8601 with zone.")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", metavar="TIME", help="Before this time (like --from).")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many events (default: all; a table shows 100).")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    url: UrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print a process's audit trail, search every trail (--actor, --kind, --from, --to), or verify every chain."""
    filters = {"actor": actor, "kind": kind, "from": since, "to": until}
    if target == "verify":
        if any(filters.values()) or limit:
            fail(
                "`signoff audit verify` checks every chain whole: it takes no --actor, --kind, --from, --to or --limit"
            )
        verify_chains(data_dir)
        return
    if data_dir is not None:
        fail("--data-dir is for `signoff audit verify`: a trail comes from the web service (--url)")
    if format not in ("table", "json", "csv"):
        fail(f"--format must be table, json or csv, not {format!r}")
    if target is not None and not any(filters.values()) and not limit:
        fetched = call(
            url, "GET", f"/api/processes/{target}/audit", params={"format": "csv" if format == "csv" else "json"}
        )
        if format == "csv":
            typer.echo(fetched, nl=False)
        elif format == "json":
            typer.echo(json.dumps(fetched, indent=2))
        else:
            print_audit(fetched)
        return
    wanted = {"process": target, **filters, "from": utc_time(since), "to": utc_time(until)}
    query: dict[str, str] = {k: v for k, v in wanted.items() if v}
    if format != "table":
        stream_events(search_events(url, query, limit), format)
        return
    shown = TABLE_ROWS if limit is None else limit  # a table is for reading: a screenful unless asked
    events = list(search_events(url, query, shown + 1 if limit is None else limit))
    print_audit(events[:shown], with_process=True)
    if len(events) > shown:
        typer.echo(f"(the first {shown}; --limit N for more, --format csv for all)", err=True)


TABLE_ROWS = 100
"""How many events `signoff audit` prints as a table when no --limit is given."""


def utc_time(value: str | None) -> str | None:
    """A `--from`/`--to` value for the API: a bare date is that day's midnight UTC."""
    if value and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return f"{value}T00:00:00+00:00"
    return value


def search_events(url: str | None, filters: dict[str, str], limit: int | None) -> Iterator[dict[str, Any]]:
    """Every event `GET /api/audit` finds, page after page (at most `limit`).

    The first page is fetched before this returns, so a refusal (a bad time, an
    unknown process, no service) ends the command before anything is written.
    """
    client = api(url)

    def page(cursor: str | None, left: int | None) -> dict[str, Any]:
        params = {**filters, "limit": min(1000, left) if left is not None else 1000}
        try:
            found: dict[str, Any] = client.call(
                "GET", "/api/audit", params=params | ({"after": cursor} if cursor else {})
            )
        except CliError as err:
            fail(str(err), err.code)
        return found

    first = page(None, limit)

    def walk(current: dict[str, Any], left: int | None) -> Iterator[dict[str, Any]]:
        while True:
            events = current["events"][:left] if left is not None else current["events"]
            yield from events
            left = None if left is None else left - len(events)
            if current["next"] is None or left == 0:
                return
            current = page(current["next"], left)

    return walk(first, limit)


def stream_events(events: Iterator[dict[str, Any]], format: str) -> None:
    """Events as a JSON array or CSV (the columns of the API's), written as they arrive: memory stays flat."""
    if format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(AUDIT_CSV_COLUMNS)
        for event in events:
            writer.writerow(audit_csv_row(event))
        return
    typer.echo("[", nl=False)
    for n, event in enumerate(events):
        typer.echo(("," if n else "") + "\n  " + json.dumps(event), nl=False)
    typer.echo("\n]")


def verify_chains(data_dir: Path | None) -> None:
    """`signoff audit verify`: check every hash chain in the stack's store (exit 1 if one breaks, or none is there).

    Each broken chain's sentence goes to stdout, one a line; what was checked
    ends the output, so "every chain verifies" is never said of an empty store.
    """
    from domain.errors import NotFound, Unavailable
    from workers.checks import verify_audit, where_to_look

    config, where, _ = local_settings(data_dir)
    try:
        checked = verify_audit(config)
    except NotFound as err:
        fail(f"{err} ({where}): {where_to_look(config)}", 1)
    except Unavailable as err:
        fail(f"{err} ({where})", 1)
    for problem in checked.problems:
        typer.echo(problem)
    counted = f"{checked.chains:,} chain{'s' * (checked.chains != 1)}, {checked.events:,} events"
    if checked.problems:
        fail(f"{counted}: {len(checked.problems):,} broken", 1)
    typer.echo(f"{counted}: every chain verifies")


def evidence(
    process_id: Annotated[str, typer.Argument(metavar="ID")],
    format: Annotated[str, typer.Option("--format", help="markdown, or html (printable).")] = "markdown",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")] = None,
    url: UrlOption = None,
) -> None:
    """The evidence report of a process: every decision and message, and whether its trail verifies."""
    if format not in ("markdown", "html"):
        fail(f"--format must be markdown or html, not {format!r}")
    report = call(url, "GET", f"/api/processes/{process_id}/evidence", params={"format": format})
    if output is None:
        typer.echo(report, nl=False)
        return
    try:
        output.write_text(report, encoding="utf-8")
    except OSError as err:
        fail(f"cannot write {output}: {err.strerror}")
    typer.echo(f"wrote the evidence report of {process_id} to {output}")
