"""`signoff`: the command line (typer).

Process commands talk to the web service over HTTP; `validate`, `check`,
`audit verify` and the runners work locally from settings. Each group of
commands lives in its own module; this one makes the app and registers them,
in the order `signoff --help` lists them:

- `workers.cli_processes`: what changes a process (start, cancel, done, remind);
- `workers.cli_read`: what only reads (list, mine, show, audit, evidence);
- `workers.cli_stack`: what works locally (validate, check, dev, worker, web);
- `workers.cli_access`, `workers.cli_plan`, `workers.cli_edit`,
  `workers.cli_schedules`: people and tokens, a preview, an edit, schedules.
"""

from __future__ import annotations

import typer

from workers.cli_access import login, people_app, tokens_app
from workers.cli_client import api, call
from workers.cli_edit import edit
from workers.cli_plan import plan
from workers.cli_processes import cancel, done, remind, start
from workers.cli_read import audit, evidence, list_, mine, show
from workers.cli_recover import rerun, skip
from workers.cli_schedules import schedule_app
from workers.cli_stack import check, dev, serve, validate, web, worker

__all__ = ["api", "app", "call", "main", "serve"]  # api, call, serve: named from here by other modules

app = typer.Typer(
    name="signoff",
    help="Run product-management processes (launch, …) as durable Temporal workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command()(start)
app.command("list")(list_)
app.command()(mine)
app.command()(show)
app.command()(cancel)
app.command()(done)
app.command()(remind)
app.command()(audit)
app.command()(evidence)
app.command()(validate)
app.command()(check)
app.command()(dev)
app.command()(worker)
app.command()(web)
app.add_typer(people_app, name="user")
app.add_typer(tokens_app, name="token")
app.add_typer(schedule_app, name="schedule")
app.command()(login)
app.command()(plan)
app.command()(edit)
app.command()(rerun)
app.command()(skip)


def main() -> None:
    """The `signoff` console script."""
    app()
