"""`signoff plan`: preview a whole process in seconds, here, with nothing sent and nothing kept.

It needs no running service: the parameters are checked as `signoff start` has them checked
(`api.starts.prepare_start`, the same sentences and exit code 2), and `workers.preview` runs
the process on a time-skipping test server of its own over a throwaway store; the settings give only the
template folders, the address the messages' links name and the default time zone. Nothing in the data dir is
read or written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from config.settings import Settings
from domain.errors import BadInput, Unavailable
from workers.api_client import describe
from workers.cli_support import one_of, parse_params, settings
from workers.timeline import Plan, plan_text

FORMATS = ("text", "json")


def plan(
    kind: Annotated[str, typer.Argument(help="The process kind, e.g. launch.")],
    param: Annotated[
        list[str],
        typer.Option("--param", "-p", help="A parameter, name=value (as `signoff start` takes them)."),
    ] = [],  # noqa: B006
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Parameters in a YAML file (UTF-8); a --param overrides it.")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="text (day by day) or json.")] = "text",
    done_items: Annotated[
        bool, typer.Option("--done-items", help="Every item marked done as soon as it is filed, not left open.")
    ] = False,
) -> None:
    """Preview a process: run it in seconds on a test server and print its timeline; nothing is sent."""
    one_of("--format", format, FORMATS)
    params = parse_params(param, file)
    plan = _previewed(kind, params, settings(), done_items)
    typer.echo(plan.model_dump_json(indent=2) if format == "json" else plan_text(plan), nl=format == "json")
    _leave(0)


def _previewed(kind: str, params: dict[str, object], config: Settings, done_items: bool) -> Plan:
    """The plan, or the command's end with a sentence: bad input exits 2, a preview that fails 1, Ctrl-C 130.
    The settings give the templates' folders, the service's address (for the links) and the default zone."""
    from config.templates import Templates
    from workers.preview import preview

    actor = str(params.get("owner") or "you")  # whoever starts it; the trail's "started by"
    interrupted = asyncio.Event()

    async def run() -> Plan:
        task = asyncio.current_task()
        assert task is not None

        def stop() -> None:  # Ctrl-C: the preview stops its worker and server and removes its folder on the way out
            interrupted.set()
            task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop)
        return await preview(
            kind, dict(params), templates=Templates(config.template_folders()), actor=actor,
            public_url=config.public_url, done_items=done_items, time_zone=config.time_zone,
        )  # fmt: skip

    # The SDK logs each failed workflow task with its traceback; with no logging set up, Python would print
    # them all: the preview's own sentence says what happened instead.
    logging.getLogger("temporalio").addHandler(logging.NullHandler())
    try:
        return asyncio.run(run())
    except BadInput as err:
        errors = getattr(err, "errors", None)  # a ParamsError names each field, as the API's 422 does
        _leave(2, describe(errors) if errors else str(err))
    except BaseException as err:
        if interrupted.is_set() or isinstance(err, KeyboardInterrupt):  # (a cancelled call may end otherwise)
            _leave(130, "preview interrupted; nothing was kept")
        if isinstance(err, Unavailable | FileNotFoundError):
            _leave(1, str(err))
        if isinstance(err, Exception):  # whatever else went wrong: one sentence, never a traceback
            _leave(1, f"the preview failed ({type(err).__name__}: {err}); nothing was kept")
        raise


def _leave(code: int, sentence: str = "") -> NoReturn:
    """End here, without interpreter teardown: the Temporal SDK's threads can outlive the event loop and abort
    a finalizing interpreter (see `workers.cli.serve`); the preview has stopped and removed everything by now."""
    if sentence:
        typer.echo(f"signoff: {sentence}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
