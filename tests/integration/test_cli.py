"""The `signoff` command line, run as a user runs it, against a real `signoff dev`.

Every command of DESIGN.md's CLI: start, list, show, done, audit (a trail, a
search across trails, verify), evidence, cancel, validate — and its exit codes:
0 done, 1 failed, 2 bad input with one sentence and never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrations.schema import audit_events
from integrations.store import Store
from tests.integration.devstack import DevStack, eventually, launch_params
from tests.unit.test_store import event
from workers.temporal import find_binary


def signoff(stack: DevStack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `signoff ARGS` pointed at the stack (its URL and its data dir)."""
    environment = stack.env | {"SIGNOFF_URL": stack.base, "SIGNOFF_DATA_DIR": str(stack.data_dir)} | env
    return subprocess.run(
        [find_binary("signoff"), *args], env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The sentence of a refusal: the exit code, one `signoff:` line, no traceback."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("signoff: "), result.stderr
    assert result.stdout == "", "nothing half-written"
    return result.stderr


@pytest.fixture(scope="module")
def launch(dev_stack: DevStack) -> str:
    """A launch 40 days out, started from the CLI, with one checklist item done from the CLI."""
    params = launch_params("Cli Launch", (datetime.now(UTC).date() + timedelta(days=40)).isoformat())
    args = [f"--param={k}={v}" for k, v in params.items() if k not in ("approvers", "owners", "stakeholders")]
    args += [f"--param=approvers={a}" for a in params["approvers"]]
    args += [f"--param=owners.{team}={who}" for team, who in params["owners"].items()]
    started = ok(signoff(dev_stack, "start", "launch", *args))
    assert started.startswith("started launch-cli-launch-")
    process_id = started.split()[1]
    eventually(lambda: dev_stack.get(f"/api/processes/{process_id}")["steps"][0]["status"] == "done", what="kickoff")
    assert ok(signoff(dev_stack, "done", process_id, "legal-review")).strip() == "legal-review is done"
    eventually(  # the item's row, then its issue closed beside it: the trail is still after that
        lambda: {"item_done", "issue_transitioned"} <= {e["action"] for e in dev_stack.trail(process_id)},
        what="the item to be recorded and its issue closed",
    )
    return process_id


def test_list_and_show_name_the_process(dev_stack: DevStack, launch: str) -> None:
    listed = ok(signoff(dev_stack, "list", "--kind", "launch"))
    shown = ok(signoff(dev_stack, "show", launch))

    assert launch in listed and "running" in listed
    assert "Launch: Cli Launch" in shown and "legal-review" in shown
    assert re.search(r"Checklist +in progress", shown) and "Checklist (1 of 12 items done)" in shown, "in words"
    assert "Go / no-go  [not open yet]  round 1: 0 of 2 approvals received" in shown


def test_an_owners_role_not_in_the_template_is_refused_with_its_roles(dev_stack: DevStack) -> None:
    params = launch_params("Cli Typo", (datetime.now(UTC).date() + timedelta(days=40)).isoformat())
    args = [f"--param={k}={params[k]}" for k in ("product", "launch_date", "owner", "template")]

    said = refused(
        signoff(dev_stack, "start", "launch", *args, "-p", "approvers=vp@example.com", "-p", "owners.dcos=d@x.io")
    )

    assert "params.owners: no role 'dcos' in template 'midnight-launch' (did you mean docs?); its roles are" in said


def test_a_trail_prints_as_a_table_json_and_csv(dev_stack: DevStack, launch: str) -> None:
    trail = dev_stack.trail(launch)

    table = ok(signoff(dev_stack, "audit", launch)).splitlines()
    as_json = json.loads(ok(signoff(dev_stack, "audit", launch, "--format", "json")))
    as_csv = list(csv.DictReader(io.StringIO(ok(signoff(dev_stack, "audit", launch, "--format", "csv")))))

    assert table[0].split() == ["SEQ", "AT", "ACTOR", "VIA", "ACTION", "STEP"]
    assert len(table) == len(trail) + 2  # the header and its rule
    assert as_json == trail
    assert [int(row["seq"]) for row in as_csv] == [e["seq"] for e in trail]


def test_a_search_across_trails_filters_and_pages_through_everything(dev_stack: DevStack, launch: str) -> None:
    starter = dev_stack.trail(launch)[0]["actor"]  # the CLI's user@host
    decided = ok(signoff(dev_stack, "audit", "--kind", "item_done", "--format", "json"))
    by_actor = ok(signoff(dev_stack, "audit", "--actor", starter, "--format", "csv"))
    trail = dev_stack.trail(launch)
    day = datetime.fromisoformat(trail[0]["at"]).date()  # the day the launch started
    since_then = json.loads(ok(signoff(dev_stack, "audit", launch, "--from", day.isoformat(), "--format", "json")))
    later = (datetime.fromisoformat(trail[-1]["at"]) + timedelta(seconds=1)).isoformat()
    after_it = json.loads(ok(signoff(dev_stack, "audit", launch, "--from", later, "--format", "json")))
    two = json.loads(ok(signoff(dev_stack, "audit", launch, "--limit", "2", "--format", "json")))
    table = ok(signoff(dev_stack, "audit", "--kind", "started")).splitlines()
    three = ok(signoff(dev_stack, "audit", launch, "--limit", "3")).splitlines()

    [item_done] = [e for e in json.loads(decided) if e["process_id"] == launch]
    assert item_done["details"]["item"] == "legal-review"
    assert all(e["action"] == "item_done" for e in json.loads(decided))
    rows = list(csv.DictReader(io.StringIO(by_actor)))
    assert "@" in starter and {row["actor"] for row in rows} == {starter}
    assert launch in {row["process_id"] for row in rows}
    assert since_then == trail
    assert after_it == []
    assert [e["seq"] for e in two] == [1, 2]
    assert table[0].split()[:2] == ["PROCESS", "SEQ"] and any(launch in line for line in table[2:])
    assert len(three) == 2 + 3 and [line.split()[1] for line in three[2:]] == ["1", "2", "3"]


def test_a_trail_as_csv_has_the_same_columns_searched_or_not(dev_stack: DevStack, launch: str) -> None:
    whole = list(csv.reader(io.StringIO(ok(signoff(dev_stack, "audit", launch, "--format", "csv")))))
    searched = list(
        csv.reader(io.StringIO(ok(signoff(dev_stack, "audit", launch, "--limit", "1000", "--format", "csv"))))
    )

    assert whole == searched
    assert whole[0][:2] == ["process_id", "seq"] and "prev_hash" in whole[0]


def test_audit_verify_checks_every_chain_of_the_configured_store(dev_stack: DevStack, launch: str) -> None:
    assert re.fullmatch(
        r"\d+ chains?, [\d,]+ events: every chain verifies\n", ok(signoff(dev_stack, "audit", "verify"))
    )


def test_audit_verify_names_a_tampered_chain_and_fails(dev_stack: DevStack, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tampered.db'}"
    store = Store.connect(url)
    for seq in (1, 2, 3):
        store.append(event(seq, process="launch-tampered"))
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_events).where(audit_events.c.seq == 2).values(actor="someone-else"))

    result = signoff(dev_stack, "audit", "verify", SIGNOFF_DATABASE_URL=url)

    assert result.returncode == 1
    assert result.stdout.strip() == "launch-tampered: event 2 was changed after it was written"


def test_the_evidence_report_prints_or_is_written_to_a_file(dev_stack: DevStack, launch: str, tmp_path: Path) -> None:
    report = ok(signoff(dev_stack, "evidence", launch))
    written = ok(signoff(dev_stack, "evidence", launch, "--format", "html", "-o", str(tmp_path / "evidence.html")))

    assert report.startswith("# Evidence: Launch: Cli Launch") and launch in report
    assert "verifies" in report
    assert written.strip() == f"wrote the evidence report of {launch} to {tmp_path / 'evidence.html'}"
    assert (tmp_path / "evidence.html").read_text().lstrip().lower().startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["start", "launch", "--param", "product=X"], "launch_date"),
        (["start", "launch", "--param", "oops"], "is not of the form name=value"),
        (["start", "rocket"], "rocket"),
        (["show", "launch-no-such-thing-2030-01-01"], "launch-no-such-thing-2030-01-01"),
        (["audit", "--format", "xml"], "--format must be table, json or csv"),
        (["audit", "--from", "2026-12-01T00:00:00"], "needs a time zone"),
        (["audit", "--kind", "decision", "--from", "next tuesday"], "query.from: Input should be a valid datetime"),
        (["audit", "launch-no-such-thing-2030-01-01", "--kind", "decision"], "no audit trail for process"),
        (["audit", "verify", "--kind", "decision"], "takes no --actor"),
        (["evidence", "launch-no-such-thing-2030-01-01"], "no audit trail"),
        (["done", "launch-no-such-thing-2030-01-01", "docs"], "launch-no-such-thing-2030-01-01"),
        (["list", "--status", "bogus"], "--status 'bogus' is not one of running, waiting, completed, rejected"),
        (["list", "--kind", "bogus"], "--kind 'bogus' is not one of launch, comms, postmortem, eol"),
        (["start", "comms", "--param", "audience=[a, b"], "--param audience: '[a, b' is not a YAML list or mapping"),
    ],
)
def test_bad_input_is_exit_2_and_a_sentence(dev_stack: DevStack, args: list[str], sentence: str) -> None:
    assert sentence in refused(signoff(dev_stack, *args))


def test_a_param_overrides_the_file_and_its_escapes_are_the_characters(dev_stack: DevStack, tmp_path: Path) -> None:
    file = tmp_path / "notice.yaml"
    file.write_text(
        "subject: Maintenance on Saturday\nbody: from the file\naudience: [ana@customer.example]\n"
        "reviewers: ['cs@example.com:Customer Success', 'eng@example.com:Engineering']\nowner: pm@example.com\n",
        encoding="utf-8",
    )

    started = ok(signoff(dev_stack, "start", "comms", "-f", str(file), "-p", r"body=Hello,\n\nWe are down.\tSorry."))
    process_id = started.split()[1]
    params = dev_stack.get(f"/api/processes/{process_id}")["params"]
    ok(signoff(dev_stack, "cancel", process_id))

    assert params["body"] == "Hello,\n\nWe are down.\tSorry."
    assert params["subject"] == "Maintenance on Saturday"
    assert [r["email"] for r in params["reviewers"]] == ["cs@example.com", "eng@example.com"]


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        ("subject: Caf\xe9\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9 at offset 12); save it as UTF-8"),
        (b"subject: [unclosed\n", "is not valid YAML: expected ',' or ']', but got '<stream end>' at line 2"),
    ],
)
def test_a_file_not_utf8_or_not_yaml_is_a_sentence(
    dev_stack: DevStack, tmp_path: Path, content: bytes, sentence: str
) -> None:
    file = tmp_path / "params.yaml"
    file.write_bytes(content)

    assert f"{file} {sentence}" in refused(signoff(dev_stack, "start", "comms", "--file", str(file)))


def test_an_unreachable_service_is_exit_1_saying_where_it_looked(dev_stack: DevStack) -> None:
    message = refused(signoff(dev_stack, "list", SIGNOFF_URL="http://127.0.0.1:9"), code=1)

    assert "cannot reach signoff at http://127.0.0.1:9" in message


def test_remind_reminds_the_people_it_waits_on_now(dev_stack: DevStack, launch: str) -> None:
    lines = ok(signoff(dev_stack, "remind", launch)).splitlines()

    assert lines and all(line.startswith("reminding ") for line in lines)
    assert not any("legal-review" in line for line in lines), "legal-review was marked done"
    assert any(line.startswith("reminding docs@example.com (") for line in lines)
    eventually(
        lambda: any(e["action"] == "remind_requested" for e in dev_stack.trail(launch)),
        what="the reminder to be recorded",
    )
    assert "no process with id launch-no-such-thing" in refused(signoff(dev_stack, "remind", "launch-no-such-thing"))


def test_cancel_ends_the_process_and_says_so(dev_stack: DevStack, launch: str) -> None:
    """Last: the module's launch ends here."""
    assert ok(signoff(dev_stack, "cancel", launch, "--reason", "moved")).strip() == f"{launch} is cancelled"
    assert refused(signoff(dev_stack, "done", launch, "docs"))
