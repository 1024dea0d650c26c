"""Where a `signoff` command looks: the web service (the ``--url`` option, a client with the caller's token, one
call whose failure is a sentence and an exit code), or a stack's own data dir (``--data-dir``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from workers import credentials
from workers.api_client import ApiClient, CliError
from workers.cli_support import fail, settings

UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="SIGNOFF_URL", help="The web service (default: SIGNOFF_PUBLIC_URL)."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(help="The data dir of the stack to look at (default: SIGNOFF_DATA_DIR, else .signoff here)."),
]


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
