"""The `signoff` commands that change a process through the web service: start, cancel, done and remind.

They are plain functions; `workers.cli` registers them on the app, in the order `signoff --help` lists them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from domain.words import label
from workers.cli_client import UrlOption, call
from workers.cli_support import parse_params


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


def cancel(
    process_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why; told to the people involved.")] = "",
    url: UrlOption = None,
) -> None:
    """Cancel a running process; the people involved are told."""
    view = call(url, "POST", f"/api/processes/{process_id}/cancel", json={"reason": reason})
    typer.echo(f"{view['id']} is {label(view['status'], 'process')}")


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


def remind(process_id: Annotated[str, typer.Argument(metavar="ID")], url: UrlOption = None) -> None:
    """Remind now the people a process waits on: its open gate's approvers, its open items' owners."""
    reminded = call(url, "POST", f"/api/processes/{process_id}/remind")
    if reminded["approvers"]:
        typer.echo(f"reminding {', '.join(reminded['approvers'])} ({reminded['gate']})")
    for owner, items in reminded["owners"].items():
        typer.echo(f"reminding {owner} ({', '.join(items)})")
