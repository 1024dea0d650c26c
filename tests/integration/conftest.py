"""Fixtures of the tests that drive the real stack: one `signoff dev` per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from config.templates import PROCESSES
from tests.integration.devstack import DevStack


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled launch template, acting at 00:00 UTC so launch day is never hours away."""
    folder = tmp_path_factory.mktemp("templates")
    template = yaml.safe_load((PROCESSES / "launch.yaml").read_text())
    template["notify_hour_utc"] = 0
    (folder / "midnight-launch.yaml").write_text(yaml.safe_dump(template))
    return folder


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory, templates: Path) -> Iterator[DevStack]:
    running = DevStack(tmp_path_factory.mktemp("data"), templates)
    running.start()
    try:
        yield running
    finally:
        running.kill()
