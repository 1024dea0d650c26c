"""`signoff schedule …`: recurring processes (docs/processes.md, "Recurring processes"), through the web service.

``create`` takes the parameters as `signoff start` does (``--param``, ``--file``), a date given relative to each
run's day (``--param launch_date=+14d``), and when it runs: ``--every 1mo`` or ``--cron "0 9 1 * *"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workers.cli_client import UrlOption, call
from workers.cli_support import parse_params

schedule_app = typer.Typer(
    help="Recurring processes: a new process at each time of a schedule, its dates moving with each run.",
    no_args_is_help=True,
)


def _when(moment: str | None) -> str:
    """An API time (ISO, UTC) as the CLI shows times."""
    return f"{moment[:10]} {moment[11:16]} UTC" if moment else "-"


@schedule_app.command("create")
def create(
    kind: Annotated[str, typer.Argument(help="The process kind, e.g. launch.")],
    every: Annotated[
        str | None, typer.Option("--every", help="How often: 7d, 2w, 1mo, 3mo, 1y (from now, at this time of day).")
    ] = None,
    cron: Annotated[str | None, typer.Option("--cron", help='When, as cron: "0 9 1 * *" (09:00 on the 1st).')] = None,
    param: Annotated[
        list[str],
        typer.Option("--param", "-p", help="A parameter, name=value; a date may be +Nd: N days after each run's day."),
    ] = [],  # noqa: B006
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Parameters in a YAML file (UTF-8); a --param overrides it.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The schedule's name (default: the kind and the product or subject).")
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="IANA time zone of the cron and of each run's day (default UTC).")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Make a schedule: each run starts a process of KIND, checked as a start is."""
    body = {
        "kind": kind,
        "params": parse_params(param, file),
        "every": every,
        "cron": cron,
        "name": name,
        "time_zone": time_zone,
    }
    made = call(url, "POST", "/api/schedules", json={k: v for k, v in body.items() if v is not None})
    first = f", first on {_when(made['next_runs'][0])}" if made["next_runs"] else ""
    starting = f", starting {made['next_process']}" if made.get("next_process") else ""
    typer.echo(f"scheduled {made['name']}: {made['kind']} {made['when']}{first}{starting}")


@schedule_app.command("list")
def list_(url: UrlOption = None) -> None:
    """Every schedule: when it runs, its next run, whether paused, and its last run."""
    schedules = call(url, "GET", "/api/schedules")
    if not schedules:
        typer.echo("no schedules")
        return
    for s in schedules:
        state = f"paused ({s['note']})" if s["paused"] and s.get("note") else ("paused" if s["paused"] else "active")
        upcoming = "-" if s["paused"] or not s["next_runs"] else _when(s["next_runs"][0])
        typer.echo(f"{s['name']:32} {s['kind']:10} {s['when']:28} {state:10} next {upcoming}  by {s['created_by']}")
        last = s.get("last")
        if last and last["action"] == "run_refused":
            typer.echo(f"  last run {last['details'].get('day')}: not started: {last['details'].get('reason')}")
        elif last and last["action"] in ("run_started", "run_found_started"):
            typer.echo(f"  last run {last['details'].get('day')}: {last['details'].get('process')}")


@schedule_app.command("pause")
def pause(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    reason: Annotated[str, typer.Option(help="Why; shown beside the schedule.")] = "",
    url: UrlOption = None,
) -> None:
    """Pause a schedule: no run until it is unpaused."""
    view = call(url, "POST", f"/api/schedules/{name}/pause", json={"reason": reason})
    typer.echo(f"{view['name']} is paused")


@schedule_app.command("unpause")
def unpause(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    reason: Annotated[str, typer.Option(help="Why, for its trail.")] = "",
    url: UrlOption = None,
) -> None:
    """Let a paused schedule run again, from its next time."""
    view = call(url, "POST", f"/api/schedules/{name}/unpause", json={"reason": reason})
    after = f", next on {_when(view['next_runs'][0])}" if view["next_runs"] else ""
    typer.echo(f"{view['name']} runs again{after}")


@schedule_app.command("delete")
def delete(name: Annotated[str, typer.Argument(metavar="NAME")], url: UrlOption = None) -> None:
    """Delete a schedule; the processes it started go on."""
    call(url, "DELETE", f"/api/schedules/{name}")
    typer.echo(f"{name} is deleted")
