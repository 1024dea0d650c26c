"""`signoff plan` refuses, with one sentence and exit 2, a preview that could not finish in its time — a date
years away (even 9999), too many approvers — before it starts anything, and never prints a traceback."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.test_plan_cli import launch_args, left_nothing, plan
from workers import preview
from workers.temporal import find_binary


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """Where the command runs, its data dir (which must never appear) and its temporary folder."""
    folders = {"cwd": tmp_path / "cwd", "data": tmp_path / "data", "tmp": tmp_path / "tmp"}
    folders["cwd"].mkdir()
    folders["tmp"].mkdir()
    return folders


def eol_args(shutdown: str) -> list[str]:
    today = datetime.now(UTC).date()
    dates = {"announce_date": today + timedelta(days=1), "end_of_sale": today + timedelta(days=40),
             "end_of_support": today + timedelta(days=80)}  # fmt: skip
    args = [f"--param={name}={day}" for name, day in dates.items()]
    return [*args, f"--param=shutdown_date={shutdown}", "--param=product=Legacy Reports",
            "--param=customers=ana@customer.example", "--param=migration_guide=https://docs.example.com/migrate",
            "--param=approvers=vp@example.com", "--param=owner=pm@example.com"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["eol", *eol_args("9999-12-31")], "params.shutdown_date: "),
        (["launch", *launch_args(datetime(9999, 12, 1).date())], "params.launch_date: "),
        (["launch", *launch_args(datetime.now(UTC).date() + timedelta(days=30)),
          *(f"--param=approvers=a{n}@example.com" for n in range(25))],
         f"params.approvers: a preview plays up to {preview.MAX_DECIDERS} approvers"),
    ],
    ids=["year-9999", "launch-9999", "27-approvers"],
)  # fmt: skip
def test_a_preview_that_cannot_finish_is_refused_with_one_sentence_and_exit_2(
    place: dict[str, Path], args: list[str], sentence: str
) -> None:
    began = time.monotonic()
    result = plan(place, *args)

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert time.monotonic() - began < 60, "refused before the preview runs"
    assert result.stderr.startswith("signoff: ") and sentence in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    left_nothing(place)


BROKEN = """
import workers.preview as preview


async def broken(*args, **kwargs):
    raise ValueError("a bug inside the preview")


preview.run_checked = broken
"""


def test_whatever_fails_inside_a_preview_ends_as_one_sentence(place: dict[str, Path], tmp_path: Path) -> None:
    """A failure no one foresaw (here a bug, planted by a sitecustomize) is one sentence and exit 1."""
    (tmp_path / "planted").mkdir()
    (tmp_path / "planted" / "sitecustomize.py").write_text(BROKEN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env |= {"SIGNOFF_DATA_DIR": str(place["data"]), "TMPDIR": str(place["tmp"]),
            "PYTHONPATH": str(tmp_path / "planted")}  # fmt: skip
    args = launch_args(datetime.now(UTC).date() + timedelta(days=30))

    result = subprocess.run(
        [find_binary("signoff"), "plan", "launch", *args],
        env=env, cwd=place["cwd"], capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr == (
        "signoff: the preview failed (ValueError: a bug inside the preview); nothing was kept\n"
    ), result.stderr
    assert result.stdout == ""
