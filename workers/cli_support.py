"""What every `signoff` command shares: its settings, and how it fails (one sentence, an exit code)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, time
from pathlib import Path
from typing import Any, NoReturn

import typer
import yaml
from pydantic import ValidationError

from config.settings import Settings


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


ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}
ESCAPE = re.compile(r"\\([nt\\])")
"""``\\n``, ``\\t`` and ``\\\\`` in a --param value: a shell passes them as typed, a person means the characters."""


def one_of(option: str, value: str | None, choices: Iterable[str]) -> None:
    """Refuse `value` for `option` unless it is one of `choices` (None: the option was not given)."""
    known = list(choices)
    if value is not None and value not in known:
        fail(f"{option} {value!r} is not one of {', '.join(known)}")


def parse_params(pairs: list[str], file: Path | None) -> dict[str, Any]:
    """``k=v`` pairs (over a YAML file's parameters) as a params dict.

    ``owners.docs=a@x.com`` nests; a value in ``[…]`` or ``{…}`` is YAML;
    ``\\n``, ``\\t`` and ``\\\\`` in any other value are a newline, a tab and a
    backslash. A key given twice as ``--param`` becomes a list; a ``--param``
    replaces the file's value for its key (a nested key, that key alone).
    """
    params = read_params_file(file) if file else {}
    given: set[tuple[str, ...]] = set()
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        path = tuple(part.strip() for part in key.split("."))
        if not sep or not all(path):
            fail(f"--param {pair!r} is not of the form name=value")
        key = ".".join(path)
        inside = sorted(earlier for earlier in given if earlier[: len(path)] == path and earlier != path)
        if inside:
            fail(f"--param {key}: another --param already gives one of its keys ({'.'.join(inside[0])})")
        *parents, leaf = path
        node = params
        for depth, parent in enumerate(parents, 1):
            if not isinstance(node.get(parent), dict):
                if path[:depth] in given:
                    fail(f"--param {key}: another --param already gives {'.'.join(path[:depth])} a value")
                node[parent] = {}  # the file's value for it, if any, gives way
            node = node[parent]
        value = param_value(key, raw)
        if path in given:
            existing = node[leaf]
            node[leaf] = [*(existing if isinstance(existing, list) else [existing]), value]
        else:
            node[leaf] = value
            given.add(path)
    return params


def param_value(key: str, raw: str) -> Any:
    """A ``--param``'s value: YAML when it starts with ``[`` or ``{``, else the text with its escapes read."""
    if not raw.strip().startswith(("[", "{")):
        return ESCAPE.sub(lambda found: ESCAPES[found[1]], raw)
    try:
        return _plain(yaml.safe_load(raw))
    except yaml.YAMLError as err:
        fail(
            f"--param {key}: {raw!r} is not a YAML list or mapping ({_yaml_problem(err)}); "
            "text that starts with [ or { goes in --file, quoted"
        )


def read_params_file(file: Path) -> dict[str, Any]:
    """The parameters in a YAML file (UTF-8, with or without a byte-order mark); a file that cannot be read, is not
    UTF-8 or not YAML, or holds no mapping is one sentence and exit 2."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        fail(f"{file} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start}); save it as UTF-8")
    except OSError as err:
        fail(f"cannot read {file}: {err.strerror or err}")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as err:
        fail(f"{file} is not valid YAML: {_yaml_problem(err)}")
    if not isinstance(loaded, dict):
        fail(f"{file} must hold a mapping of parameter names to values")
    return {str(name): _plain(value) for name, value in loaded.items()}


def _yaml_problem(err: yaml.YAMLError) -> str:
    """What is wrong, and where, in one line."""
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        return f"{err.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(err).splitlines()[0]


def _plain(value: Any) -> Any:
    """`value` as JSON carries it: YAML's dates and times (at any depth) as ISO text."""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def local_settings(data_dir: Path | None) -> tuple[Settings, str, str]:
    """Settings for the commands that look at this machine's stack (`check`, `audit verify`), and whence they came:
    the settings, where the store was looked for, and where Temporal.

    Such a command is often run from another directory than the stack's, so
    it says where it looked. The data dir is `data_dir` (``--data-dir``), else
    SIGNOFF_DATA_DIR (the environment, or ``.env`` here), else ``.signoff``
    here. A `signoff dev` running on that data dir chose its own Temporal port
    and wrote it there (`workers.devserver.running_stack`): that address is
    used, unless SIGNOFF_TEMPORAL_ADDRESS names one on purpose.
    """
    from workers.devserver import running_stack

    config = settings()
    if data_dir is not None:
        config, origin = config.model_copy(update={"data_dir": data_dir}), "given by --data-dir"
    elif "data_dir" in config.model_fields_set:
        in_env = "SIGNOFF_DATA_DIR" in {name.upper() for name in os.environ}
        origin = "given by SIGNOFF_DATA_DIR" if in_env else "given by SIGNOFF_DATA_DIR in .env"
    else:
        origin = "by default, in the current directory"
    env_file = Path(".env").resolve()
    where = (
        f"settings from the environment{f' and {env_file}' if env_file.is_file() else ''}; "
        f"data dir {config.data_dir.resolve()} {origin}"
        + ("; database from SIGNOFF_DATABASE_URL" if config.database_url else "")
    )
    stack = running_stack(config.data_dir)
    address = config.temporal.address
    if "address" in config.temporal.model_fields_set:
        running = f", though the signoff dev there uses {stack.temporal}" if stack and stack.temporal != address else ""
        temporal = f"Temporal at {address} from SIGNOFF_TEMPORAL_ADDRESS{running}"
    elif stack:
        config.temporal = config.temporal.model_copy(update={"address": stack.temporal})
        temporal = f"Temporal at {stack.temporal} from the signoff dev running there (pid {stack.pid})"
    else:
        temporal = f"Temporal at {address} (the default: no signoff dev runs on that data dir)"
    return config, where, temporal
