"""The commands an operator runs beside a stack, and the one stack a data dir holds (issue #13).

`signoff audit verify` and `signoff check` are run from another directory
than the stack's, as an operator would: they look where their settings say,
say where that was and what they found, and make nothing where they look. A
second `signoff dev` on a data dir in use is refused with a sentence, and the
first runs on.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import requests
import sqlalchemy as sa

from integrations.schema import audit_events
from integrations.store import Store
from tests.integration.devstack import DevStack, free_port
from tests.unit.test_store import event
from workers.temporal import find_binary

ELSEWHERE = "elsewhere"


def signoff(*args: str, cwd: Path, env: dict[str, str] | None = None, **more: str) -> subprocess.CompletedProcess[str]:
    """`signoff ARGS` run in `cwd` with no SIGNOFF_ setting but those given."""
    environment = (env or DevStack(cwd, cwd).env) | more
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [find_binary("signoff"), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def store_in(data_dir: Path, chains: dict[str, int]) -> Store:
    """A store in `data_dir` (where `signoff dev` keeps it) with `chains[process]` events for each process."""
    data_dir.mkdir(parents=True)
    store = Store.connect(f"sqlite:///{data_dir / 'signoff.db'}")
    for process, events in chains.items():
        store.append_all([event(seq, process=process) for seq in range(1, events + 1)])
    return store


def test_audit_verify_where_nothing_ran_fails_saying_where_it_looked_and_makes_nothing(tmp_path: Path) -> None:
    result = signoff("audit", "verify", cwd=tmp_path)

    assert result.returncode == 1, result
    assert result.stdout == ""
    assert result.stderr.startswith(f"signoff: no audit store at {tmp_path / '.signoff' / 'signoff.db'} ")
    assert f"data dir {tmp_path / '.signoff'} by default, in the current directory" in result.stderr
    assert "--data-dir" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "no empty database left behind"


def test_audit_verify_counts_the_chains_and_events_of_the_data_dir_it_is_given(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store_in(data, {"launch-a": 3, "launch-b": 2})

    by_option = signoff("audit", "verify", "--data-dir", str(data), cwd=tmp_path / ELSEWHERE)
    by_setting = signoff("audit", "verify", cwd=tmp_path / ELSEWHERE, SIGNOFF_DATA_DIR=str(data))

    assert (by_option.returncode, by_option.stdout) == (0, "2 chains, 5 events: every chain verifies\n"), by_option
    assert (by_setting.returncode, by_setting.stdout) == (0, by_option.stdout), by_setting
    assert list((tmp_path / ELSEWHERE).iterdir()) == []


def test_audit_verify_names_a_tampered_chain_and_fails_saying_what_it_checked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = store_in(data, {"launch-a": 3, "launch-b": 2})
    with store.engine.begin() as conn:
        rows = audit_events.c
        conn.execute(sa.update(audit_events).where(rows.process_id == "launch-b", rows.seq == 2).values(actor="x"))

    result = signoff("audit", "verify", "--data-dir", str(data), cwd=tmp_path / ELSEWHERE)

    assert result.returncode == 1
    assert result.stdout == "launch-b: event 2 was changed after it was written\n"
    assert result.stderr == "signoff: 2 chains, 5 events: 1 broken\n"


def test_audit_verify_fails_on_a_store_with_nothing_to_verify(tmp_path: Path) -> None:
    store_in(tmp_path / "fresh", {})
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "signoff.db").touch()  # what `audit verify` itself used to leave behind

    fresh = signoff("audit", "verify", "--data-dir", str(tmp_path / "fresh"), cwd=tmp_path / ELSEWHERE)
    blank = signoff("audit", "verify", "--data-dir", str(tmp_path / "blank"), cwd=tmp_path / ELSEWHERE)

    assert fresh.returncode == blank.returncode == 1
    assert f"{tmp_path / 'fresh' / 'signoff.db'} holds no audit events to verify" in fresh.stderr
    assert f"{tmp_path / 'blank' / 'signoff.db'} is empty, without signoff's tables" in blank.stderr
    assert fresh.stdout == blank.stdout == ""


def test_a_second_stack_on_a_data_dir_in_use_is_refused_and_the_first_runs_on(dev_stack: DevStack) -> None:
    assert dev_stack.process is not None
    ports = ["--port", str(free_port()), "--temporal-port", str(free_port(also_free=1000))]
    second = subprocess.run(
        [find_binary("signoff"), "dev", "--data-dir", str(dev_stack.data_dir), *ports],
        env=dev_stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert second.returncode == 2, second
    assert second.stderr == (
        f"signoff: the data dir {dev_stack.data_dir.resolve()} is in use by another signoff dev "
        f"(pid {dev_stack.process.pid}, {dev_stack.base}/): stop that one first, or give this one another --data-dir\n"
    )
    assert dev_stack.process.poll() is None
    assert requests.get(f"{dev_stack.base}/healthz", timeout=10).status_code == 200
    stack = json.loads((dev_stack.data_dir / "stack.json").read_text())
    assert stack["pid"] == dev_stack.process.pid, "the refused stack left the first one's description alone"


def test_check_beside_a_running_stack_reaches_its_temporal(dev_stack: DevStack, tmp_path: Path) -> None:
    assert dev_stack.process is not None
    data = dev_stack.data_dir.resolve()

    result = signoff("check", "--data-dir", str(dev_stack.data_dir), cwd=tmp_path, env=dev_stack.env)

    assert result.returncode == 0, result
    using, temporal, database, *_ = result.stdout.splitlines()
    assert using == (
        f"using settings from the environment; data dir {data} given by --data-dir; "
        f"Temporal at 127.0.0.1:{dev_stack.temporal_port} from the signoff dev running there "
        f"(pid {dev_stack.process.pid})"
    )
    assert temporal == f"ok    temporal   127.0.0.1:{dev_stack.temporal_port} (namespace default)"
    assert database.startswith(f"ok    database   sqlite:///{data / 'signoff.db'} (")


def test_a_stopped_stack_takes_its_description_with_it(dev_stack: DevStack, tmp_path: Path) -> None:
    """Last: the module's stack stops here."""
    assert "signoff stopped" in dev_stack.stop()

    assert not (dev_stack.data_dir / "stack.json").exists()
    result = signoff("check", "--data-dir", str(dev_stack.data_dir), cwd=tmp_path, env=dev_stack.env)
    assert "Temporal at 127.0.0.1:7233 (the default: no signoff dev runs on that data dir)" in result.stdout
