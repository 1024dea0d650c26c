"""Waiting at start (workers/waiting.py) and the claim a `signoff dev` holds on its data dir (workers/devserver.py)."""

from __future__ import annotations

import asyncio
import os
import tomllib
from pathlib import Path

import pytest

from config.settings import Settings
from domain.errors import BadInput
from tests.integration.devstack import free_port
from workers.devserver import STACK_FILE, RunningStack, claim_data_dir, running_stack
from workers.waiting import both_unless_stopped, open_store

ROOT = Path(__file__).resolve().parents[2]
STACK = RunningStack(
    pid=os.getpid(), temporal="127.0.0.1:7299", web="http://127.0.0.1:8099/", temporal_ui="http://127.0.0.1:8299/"
)


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


async def test_open_store_says_what_it_waits_for_and_gives_up_after_its_patience(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://signoff:secret@127.0.0.1:{free_port()}/signoff"
    lines: list[str] = []

    with pytest.raises(RuntimeError) as gave_up:
        await open_store(settings(tmp_path, database_url=url), patience=0.5, say=lines.append)

    where = f"the database at postgresql+psycopg://signoff:***@127.0.0.1:{url.split(':')[-1]}"
    assert str(gave_up.value).startswith(f"{where} did not answer in 0.5s: ")  # "connection failed: …", or
    # "no answer" when a loaded machine let no attempt finish within the patience
    assert lines and lines[0].startswith(f"waiting for {where} (0s so far): ")
    assert "secret" not in str(gave_up.value) + "".join(lines)


async def test_open_store_refuses_a_url_no_driver_can_use_at_once(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="SIGNOFF_DATABASE_URL is not a database signoff can use"):
        await open_store(settings(tmp_path, database_url="not a url"), patience=None)


async def test_open_store_makes_the_embedded_store_in_the_data_dir(tmp_path: Path) -> None:
    store = await open_store(settings(tmp_path / "data"), patience=0)

    assert store.has_tables() and (tmp_path / "data" / "signoff.db").is_file()


async def test_both_waits_end_when_stopped_and_the_first_failure_ends_the_other() -> None:
    stop = asyncio.Event()
    forever = asyncio.get_running_loop().create_future()

    stop.set()
    assert await both_unless_stopped(stop, asyncio.sleep(60), asyncio.sleep(60)) is None

    async def fail() -> None:
        raise RuntimeError("Temporal at x did not answer in 1s")

    async def wait_forever() -> None:
        await forever

    other = asyncio.ensure_future(wait_forever())
    with pytest.raises(RuntimeError, match="did not answer"):
        await both_unless_stopped(asyncio.Event(), fail(), other)
    await asyncio.sleep(0)
    assert other.cancelled()
    assert await both_unless_stopped(asyncio.Event(), asyncio.sleep(0, "a"), asyncio.sleep(0, 1)) == ("a", 1)


def test_a_claimed_data_dir_refuses_a_second_claim_naming_the_first(tmp_path: Path) -> None:
    assert running_stack(tmp_path / "data") is None
    assert not (tmp_path / "data").exists(), "looking makes nothing"

    with claim_data_dir(tmp_path / "data", STACK):
        assert running_stack(tmp_path / "data") == STACK
        with pytest.raises(BadInput) as refused, claim_data_dir(tmp_path / "data", STACK, wait=0.1):
            pass
        assert running_stack(tmp_path / "data") == STACK, "the refused claim left the first one alone"

    assert str(refused.value).startswith(
        f"the data dir {(tmp_path / 'data').resolve()} is in use by another signoff dev (pid {os.getpid()}, "
        "http://127.0.0.1:8099/)"
    )
    assert running_stack(tmp_path / "data") is None
    assert not (tmp_path / "data" / STACK_FILE).exists()


def test_a_stack_file_nobody_holds_is_not_believed(tmp_path: Path) -> None:
    """What a stack killed with SIGKILL leaves: its file, but no lock (the kernel dropped it with the process)."""
    (tmp_path / STACK_FILE).write_text(STACK.model_dump_json())

    assert running_stack(tmp_path) is None
    with claim_data_dir(tmp_path, STACK.model_copy(update={"pid": 1})):
        assert running_stack(tmp_path) == STACK.model_copy(update={"pid": 1})


def test_start_patience_is_a_number_of_seconds_not_below_zero(tmp_path: Path) -> None:
    assert settings(tmp_path).start_patience is None
    assert settings(tmp_path, start_patience="2.5").start_patience == 2.5
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        settings(tmp_path, start_patience=-1)


def test_the_postgresql_driver_comes_with_the_default_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    assert any(dependency.startswith("psycopg[binary]") for dependency in project["dependencies"])
    assert "postgres" in project["optional-dependencies"], "kept, so `pip install signoff[postgres]` still works"
