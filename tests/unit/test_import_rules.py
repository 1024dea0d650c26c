"""The layering rules of DESIGN.md, held by a test rather than by memory.

- `domain` imports the standard library and pydantic only, nothing that does I/O.
- `workflows` imports `domain`, temporalio and pydantic; activities only under
  `workflow.unsafe.imports_passed_through()`; never config, integrations
  adapters, api, workers, or an I/O library.
- `activities` imports `domain` and the ports, never an adapter or settings.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

IO_STDLIB = {
    "os",
    "sys",
    "io",
    "socket",
    "ssl",
    "subprocess",
    "shutil",
    "pathlib",
    "sqlite3",
    "urllib",
    "http",
    "smtplib",
    "email",
    "random",
    "secrets",
    "time",
    "threading",
    "multiprocessing",
    "tempfile",
    "glob",
    "logging",
    "uuid",
    "requests",
    "concurrent",
}
IO_LIBRARIES = {
    "sqlalchemy",
    "requests",
    "jira",
    "slack_sdk",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "aiohttp",
    "psycopg",
    "structlog",
    "yaml",
    "jinja2",
    "itsdangerous",
    "typer",
    "pydantic_settings",
}
OUR_PACKAGES = {"domain", "workflows", "activities", "integrations", "api", "workers", "config"}


@dataclass
class Imported:
    module: str
    passed_through: bool
    where: str


def _is_pass_through(node: ast.With) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call)
        and isinstance(item.context_expr.func, ast.Attribute)
        and item.context_expr.func.attr == "imports_passed_through"
        for item in node.items
    )


def imports_of(package: str) -> list[Imported]:
    """Every import in a package's modules, marked if under imports_passed_through."""
    found: list[Imported] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        passed: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.With) and _is_pass_through(node):
                passed.update(id(child) for child in ast.walk(node))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                found += [Imported(alias.name, id(node) in passed, where) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append(Imported(node.module, id(node) in passed, where))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def test_domain_imports_the_standard_library_and_pydantic_only() -> None:
    allowed = (set(sys.stdlib_module_names) - IO_STDLIB) | {"pydantic", "domain", "__future__"}
    offending = [f"{i.where} imports {i.module}" for i in imports_of("domain") if top(i.module) not in allowed]
    assert offending == []


def test_workflows_import_nothing_that_does_io() -> None:
    allowed = (set(sys.stdlib_module_names) - IO_STDLIB) | {
        "temporalio",
        "pydantic",
        "domain",
        "workflows",
        "__future__",
    }
    offending = [
        f"{i.where} imports {i.module}"
        for i in imports_of("workflows")
        if top(i.module) not in allowed and not (i.passed_through and top(i.module) == "activities")
    ]
    assert offending == []


def test_workflows_import_activities_only_passed_through() -> None:
    direct = [
        f"{i.where} imports {i.module}"
        for i in imports_of("workflows")
        if top(i.module) == "activities" and not i.passed_through
    ]
    assert direct == []


def test_activities_use_ports_never_adapters_or_settings() -> None:
    forbidden = (OUR_PACKAGES - {"domain", "activities", "integrations"}) | IO_LIBRARIES
    offending = [
        f"{i.where} imports {i.module}"
        for i in imports_of("activities")
        if top(i.module) in forbidden or (top(i.module) == "integrations" and i.module != "integrations.ports")
    ]
    assert offending == []


@pytest.mark.parametrize("package", ["domain", "workflows"])
def test_importing_a_deterministic_package_loads_no_io_library(package: str) -> None:
    """The static check above, confirmed by what a fresh interpreter actually loads."""
    script = (
        f"import importlib, pkgutil, sys, {package}\n"
        f"for info in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    importlib.import_module(info.name)\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert loaded & (IO_LIBRARIES | {"config", "api", "workers"}) == set()
    assert package in loaded


CLOCKS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("uuid", "uuid4")}
"""Calls that read the clock or make randomness: a workflow asks `workflow.now()` and `workflow.uuid4()`."""


def clock_calls(source: str) -> list[str]:
    """Where `source` reads the clock or makes randomness (``line name.attr``)."""
    return [
        f"{node.lineno} {node.value.id}.{node.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (node.value.id, node.attr) in CLOCKS
    ]


def test_workflows_read_no_clock_and_make_no_randomness() -> None:
    """The sandbox would catch these in a kind's module, but not in the shared machinery it passes through
    (`workers.temporal.PASSED_THROUGH`): this check holds every workflow module to the rule."""
    offending = [
        f"{path.relative_to(ROOT)}:{call}"
        for path in sorted((ROOT / "workflows").rglob("*.py"))
        for call in clock_calls(path.read_text())
    ]
    assert offending == []


def test_the_clock_check_finds_a_clock() -> None:
    source = "from datetime import date, datetime\nimport uuid\nx = datetime.now()\ny = (date.today(), uuid.uuid4())\n"
    assert clock_calls(source) == ["3 datetime.now", "4 date.today", "4 uuid.uuid4"]
