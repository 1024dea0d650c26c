"""`signoff`: the command line (typer).

Process commands talk to the web service over HTTP; `validate`, `check`,
`audit verify` and the runners work locally from settings.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from pydantic import ValidationError

from config.settings import Settings
from domain.audit import AUDIT_CSV_COLUMNS, audit_csv_row
from workers.api_client import ApiClient, CliError
from workers.render import print_audit, print_process, print_processes

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


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `message` to stderr and exit with `code`."""
    typer.echo(f"signoff: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """Settings from the environment and `.env`; a bad one is a sentence, not a traceback."""
    try:
        return Settings()
    except ValidationError as err:
        problems = "; ".join(f"SIGNOFF_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in err.errors())
        fail(f"bad setting: {problems}")


def api(url: str | None) -> ApiClient:
    """A client for the web service at `url`, or the configured public URL."""
    return ApiClient(url or settings().public_url)


def call(url: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """Call the API; a failure becomes its sentence and exit code."""
    try:
        return api(url).call(method, path, **kwargs)
    except CliError as err:
        fail(str(err), err.code)


def parse_params(pairs: list[str], file: Path | None) -> dict[str, Any]:
    """``k=v`` pairs (and a YAML file) as a params dict.

    ``owners.docs=a@x.com`` nests; a value in ``[…]`` or ``{…}`` is YAML; a key
    given twice becomes a list.
    """
    params: dict[str, Any] = {}
    if file:
        try:
            loaded = yaml.safe_load(file.read_text())
        except (OSError, yaml.YAMLError) as err:
            fail(f"cannot read {file}: {err}")
        if not isinstance(loaded, dict):
            fail(f"{file} must hold a mapping of parameter names to values")
        params.update({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in loaded.items()})
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--param {pair!r} is not of the form name=value")
        value: Any = yaml.safe_load(raw) if raw.strip().startswith(("[", "{")) else raw
        *parents, leaf = key.strip().split(".")
        node = params
        for parent in parents:
            node = node.setdefault(parent, {})
        if leaf in node and not parents:
            existing = node[leaf]
            node[leaf] = [*(existing if isinstance(existing, list) else [existing]), value]
        else:
            node[leaf] = value
    return params


@app.command()
def start(
    kind: Annotated[str, typer.Argument(help="The process kind, e.g. launch.")],
    param: Annotated[list[str], typer.Option("--param", "-p", help="A parameter, name=value.")] = [],  # noqa: B006
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Parameters in a YAML file.")] = None,
    url: UrlOption = None,
) -> None:
    """Start a process."""
    process = call(url, "POST", "/api/processes", json={"kind": kind, "params": parse_params(param, file)})
    typer.echo(f"started {process['id']}")


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner.")] = None,
    url: UrlOption = None,
) -> None:
    """List processes, newest first."""
    filters = {k: v for k, v in {"status": status, "kind": kind, "owner": owner}.items() if v}
    print_processes(call(url, "GET", "/api/processes", params=filters))


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
    typer.echo(f"{view['id']} is {view['status']}")


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
    typer.echo(f"{state['key']} is {state['status'].replace('_', ' ')}")


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
) -> None:
    """Print a process's audit trail, search every trail (--actor, --kind, --from, --to), or verify every chain."""
    filters = {"actor": actor, "kind": kind, "from": since, "to": until}
    if target == "verify":
        if any(filters.values()) or limit:
            fail(
                "`signoff audit verify` checks every chain whole: it takes no --actor, --kind, --from, --to or --limit"
            )
        verify_chains()
        return
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


def verify_chains() -> None:
    """`signoff audit verify`: check every hash chain in the configured database (exit 1 if one breaks)."""
    from workers.wiring import build_store

    problems = build_store(settings()).verify()
    for problem in problems:
        typer.echo(problem)
    if problems:
        raise typer.Exit(1)
    typer.echo("every audit chain verifies")


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
def check() -> None:
    """Can signoff reach Temporal, the database and each integration? One line each."""
    from workers.checks import run_checks

    lines, healthy = asyncio.run(run_checks(settings()))
    for line in lines:
        typer.echo(line)
    if not healthy:
        raise typer.Exit(1)


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the web service.")] = 8080,
    temporal_port: Annotated[int, typer.Option(help="Port of the Temporal dev server (its UI: +1000).")] = 7233,
    data_dir: Annotated[Path, typer.Option(help="Where the stack keeps its state.")] = Path(".signoff"),
) -> None:
    """The whole embedded stack: Temporal dev server, worker and web service."""
    from domain.errors import BadInput
    from workers.run import DevStack, run_dev

    config = settings()
    updates: dict[str, Any] = {"data_dir": data_dir}
    if "public_url" not in config.model_fields_set:
        updates["public_url"] = f"http://127.0.0.1:{port}"
    config = config.model_copy(update=updates)
    config.temporal = config.temporal.model_copy(update={"address": f"127.0.0.1:{temporal_port}"})
    try:
        asyncio.run(run_dev(config, DevStack(port, temporal_port, data_dir)))
    except BadInput as err:
        fail(str(err))
    except RuntimeError as err:
        fail(str(err), 1)


@app.command()
def worker() -> None:
    """The Temporal worker (production)."""
    from workers.run import run_worker

    asyncio.run(run_worker(settings()))


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """The web service (production)."""
    from workers.run import run_web

    asyncio.run(run_web(settings(), host, port))


def main() -> None:
    """The `signoff` console script."""
    app()
