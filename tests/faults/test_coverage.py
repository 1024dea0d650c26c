"""Every activity the worker serves is held by a fault scenario (or named, with its reason, as not held).

No fault run here: this builds the activity list `signoff worker` registers
(`workers.wiring.build_activities`, with a client: a schedule's runs too) and
compares it with the activities the full run's scenarios hold
(`tests.faults.scenarios.every_kill`), so a new activity cannot go untested by
the fault suite unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import pytest
from temporalio.client import Client

from config.settings import Settings
from integrations.store import Store
from tests.faults.processes import KINDS
from tests.faults.scenarios import NOT_HELD, every_kill
from workers.wiring import build_activities


def activity_name(fn: Any) -> str:
    """The name an activity is registered under (its ``@activity.defn(name=…)``)."""
    return str(fn.__temporal_activity_definition.name)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> set[str]:
    """The names of the activities ``signoff worker`` registers, with nothing configured."""
    for key in [k for k in os.environ if k.startswith("SIGNOFF_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SIGNOFF_DATA_DIR", str(tmp_path))
    store = Store.connect(f"sqlite:///{tmp_path / 'signoff.db'}")
    try:
        methods = build_activities(Settings(_env_file=None), store, cast(Client, object()))  # type: ignore[call-arg]
    finally:
        store.engine.dispose()
    return {activity_name(fn) for fn in methods}


def test_every_activity_the_worker_serves_is_held_by_a_fault_scenario(served: set[str]) -> None:
    held = {scenario.activity for scenario in every_kill()}

    assert {"start_scheduled_run", "tell_run_refused", "update_issue", "record_events"} <= served  # (it read them)
    assert sorted(served - held - set(NOT_HELD)) == [], "activities no fault scenario holds: add scenarios"
    assert sorted(held - served) == [], "scenarios hold activities the worker does not serve"
    assert sorted(set(NOT_HELD) - served) == [], "NOT_HELD names activities the worker no longer serves"
    assert sorted(set(NOT_HELD) & held) == [], "NOT_HELD names activities a scenario holds now: drop them"


def test_every_process_kind_has_its_worker_killed_in_several_activities() -> None:
    scenarios = every_kill()
    by_kind = {kind: {s.activity for s in scenarios if s.kind == kind} for kind in KINDS}

    assert all(len(activities) >= 5 for activities in by_kind.values()), by_kind
    assert len({s.name for s in scenarios}) == len(scenarios), "two scenarios of one name"
