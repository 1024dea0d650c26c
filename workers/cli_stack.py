"""The `signoff` commands that work locally from settings: check templates and connections, and run the stack
(`dev`: all of it embedded; `worker` and `web`: one part each, for production).

They are plain functions; `workers.cli` registers them on the app, in the order `signoff --help` lists them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from workers.cli_client import DataDirOption
from workers.cli_support import local_settings, settings


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


def worker() -> None:
    """The Temporal worker (production)."""
    from workers.run import run_worker

    serve(run_worker(settings()))


def web(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """The web service (production)."""
    from workers.run import run_web

    serve(run_web(settings(), host, port))
