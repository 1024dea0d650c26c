"""`signoff`: the command line (typer).

Process commands talk to the web service over HTTP; `validate`, `check`,
`audit verify` and the runners work locally from settings.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from domain.audit import AUDIT_CSV_COLUMNS, audit_csv_row
from domain.enums import ProcessStatus
from domain.kinds import KINDS
from domain.words import label
from workers import credentials
from workers.api_client import ApiClient, CliError
from workers.cli_access import login, people_app, tokens_app
from workers.cli_edit import edit
from workers.cli_plan import plan
from workers.cli_schedules import schedule_app
from workers.cli_support import fail, local_settings, one_of, parse_params, settings
from workers.render import print_audit, print_process, print_processes, print_work

app = typer.Typer(
    name="signoff",
    help="Run product-management processes (launch, …) as durable Temporal workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="SIGNOFF_URL", help="The web service (default: SIGNOFF_PUBLIC_URL)."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(help="The data dir of the stack to look at (default: SIGNOFF_DATA_DIR, else .signoff here)."),
]


def serve(main: Coroutine[Any, Any, None]) -> NoReturn:
    """Run a long-running command (`dev`, `worker`, `web`) to its end, then leave without interpreter teardown.

    The Temporal SDK's Rust threads can outlive the event loop and abort a
    finalizing interpreter ("Fatal Python error: PyGILState_Release",
    temporalio/sdk-python#300), which turns a clean stop into a crash. By the
    time `main` returns everything it started is stopped, so once the output
    is flushed there is nothing left for the teardown to do.
    """
    from domain.errors import BadInput

    code = 0
    try:
        asyncio.run(main)
    except BadInput as err:
        typer.echo(f"signoff: {err}", err=True)
        code = 2
    except RuntimeError as err:
        typer.echo(f"signoff: {err}", err=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def api(url: str | None) -> ApiClient:
    """A client for the web service at `url`, or the configured public URL, with the caller's token:
    ``SIGNOFF_TOKEN``, else what `signoff login` stored for that URL."""
    base = url or settings().public_url
    return ApiClient(base, token=os.environ.get("SIGNOFF_TOKEN") or credentials.token_for(base))


def call(url: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """Call the API; a failure becomes its sentence and exit code."""
    try:
        return api(url).call(method, path, **kwargs)
    except CliError as err:
        fail(str(err), err.code)


@app.command()
def start(
    kind: Annotated[str, typer.Argument(help="The process kind, e.g. launch.")],
    param: Annotated[
        list[str],
        typer.Option("--param", "-p", help="A parameter, name=value (a name given twice: a list; \\n: a new line)."),
    ] = [],  # noqa: B006
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Parameters in a YAML file (UTF-8); a --param overrides it.")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Start a process."""
    process = call(url, "POST", "/api/processes", json={"kind": kind, "params": parse_params(param, file)})
    typer.echo(f"started {process['id']}")


@app.command("list")
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


@app.command()
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


@app.command()
def show(process_id: Annotated[str, typer.Argument(metavar="ID")], url: UrlOption = None) -> None:
    """Show a process: steps, checklist, approvals."""
    print_process(call(url, "GET", f"/api/processes/{process_id}"))


@app.command()
def cancel(
    process_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why; told to the people involved.")] = "",
    url: UrlOption = None,
) -> None:
    """Cancel a running process; the people involved are told."""
    view = call(url, "POST", f"/api/processes/{process_id}/cancel", json={"reason": reason})
    typer.echo(f"{view['id']} is {label(view['status'], 'process')}")


@app.command()
def done(
    process_id: Annotated[str, typer.Argument(metavar="ID")],
    item: Annotated[str, typer.Argument(metavar="ITEM", help="The item's key (a checklist item, draft, action-1 …).")],
    wont_do: Annotated[
        str | None, typer.Option("--wont-do", metavar="REASON", help="Accept the item as won't-do, saying why.")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Mark a checklist item done (or, with --wont-do REASON, accept an action item as won't-do)."""
    body = {"resolution": "wont_do", "reason": wont_do} if wont_do is not None else None
    state = call(url, "POST", f"/api/processes/{process_id}/items/{item}/done", json=body)
    said = "accepted as won't do" if state["status"] == "wont_do" else label(state["status"], "item")
    typer.echo(f"{state['key']} is {said}")


@app.command()
def remind(process_id: Annotated[str, typer.Argument(metavar="ID")], url: UrlOption = None) -> None:
    """Remind now the people a process waits on: its open gate's approvers, its open items' owners."""
    reminded = call(url, "POST", f"/api/processes/{process_id}/remind")
    if reminded["approvers"]:
        typer.echo(f"reminding {', '.join(reminded['approvers'])} ({reminded['gate']})")
    for owner, items in reminded["owners"].items():
        typer.echo(f"reminding {owner} ({', '.join(items)})")


@app.command()
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


@app.command()
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


@app.command()
def validate(
    templates: Annotated[list[str] | None, typer.Argument(metavar="[TEMPLATE…]", help="Names or YAML paths.")] = None,
) -> None:
    """Validate process templates (default: every bundled one and those in SIGNOFF_TEMPLATES_DIR)."""
    from config.templates import TemplateError, known_templates, load_template
    from domain.templates import LaunchTemplate

    folders = settings().template_folders()
    names = templates or known_templates(folders)
    bad = 0
    for name in names:
        try:
            template = load_template(name, folders=folders)
        except TemplateError as err:
            bad += 1
            typer.echo(str(err), err=True)
        else:
            size = f", {len(template.items)} items" if isinstance(template, LaunchTemplate) else ""
            typer.echo(f"ok  {name}: {template.kind} template {template.name!r}{size}")
    if bad:
        raise typer.Exit(2)


@app.command()
def check(data_dir: DataDirOption = None) -> None:
    """Can signoff reach Temporal, the database and each integration? Where it looked, then one line each."""
    from workers.checks import run_checks

    config, where, temporal = local_settings(data_dir)
    typer.echo(f"using {where}; {temporal}")
    lines, healthy = asyncio.run(run_checks(config))
    for line in lines:
        typer.echo(line)
    if not healthy:
        raise typer.Exit(1)


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the web service.")] = 8080,
    temporal_port: Annotated[int, typer.Option(help="Port of the Temporal dev server (its UI: +1000).")] = 7233,
    data_dir: Annotated[Path, typer.Option(help="Where the stack keeps its state.")] = Path(".signoff"),
    auth: Annotated[
        bool, typer.Option("--auth", help="The production access rules: tokens or sign-in, no local admin.")
    ] = False,
) -> None:
    """The whole embedded stack: Temporal dev server, worker and web service (dev mode: you are a local admin)."""
    from workers.run import DevStack, run_dev

    config = settings()
    updates: dict[str, Any] = {"data_dir": data_dir}
    if "public_url" not in config.model_fields_set:
        updates["public_url"] = f"http://127.0.0.1:{port}"
    config = config.model_copy(update=updates)
    config.temporal = config.temporal.model_copy(update={"address": f"127.0.0.1:{temporal_port}"})
    config.auth = config.auth.model_copy(update={"dev_mode": not auth})
    serve(run_dev(config, DevStack(port, temporal_port, data_dir)))


@app.command()
def worker() -> None:
    """The Temporal worker (production)."""
    from workers.run import run_worker

    serve(run_worker(settings()))


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """The web service (production)."""
    from workers.run import run_web

    serve(run_web(settings(), host, port))


app.add_typer(people_app, name="user")
app.add_typer(tokens_app, name="token")
app.add_typer(schedule_app, name="schedule")
app.command()(login)
app.command()(plan)
app.command()(edit)


def main() -> None:
    """The `signoff` console script."""
    app()
