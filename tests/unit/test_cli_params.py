"""`signoff start`'s parameters: ``--param`` pairs over a ``--file`` (workers/cli_support.py `parse_params`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from workers.cli_support import one_of, parse_params


def refusal(capsys: pytest.CaptureFixture[str], pairs: list[str], file: Path | None = None) -> str:
    """The one line `parse_params` refuses with (exit code 2)."""
    with pytest.raises(typer.Exit) as exited:
        parse_params(pairs, file)
    assert exited.value.exit_code == 2
    message = capsys.readouterr().err
    assert message.startswith("signoff: ") and message.count("\n") == 1, message
    return message


def written(tmp_path: Path, content: str | bytes) -> Path:
    file = tmp_path / "params.yaml"
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, encoding="utf-8")
    return file


@pytest.mark.parametrize(
    ("pairs", "params"),
    [
        (["product=Acme 2.0", "launch_date=2026-12-15"], {"product": "Acme 2.0", "launch_date": "2026-12-15"}),
        (["approvers=a@x.com", "approvers=b@x.com"], {"approvers": ["a@x.com", "b@x.com"]}),
        (["approvers=[a@x.com, b@x.com]", "approvers=c@x.com"], {"approvers": ["a@x.com", "b@x.com", "c@x.com"]}),
        (["owners.docs=d@x.com", "owners.support=s@x.com"], {"owners": {"docs": "d@x.com", "support": "s@x.com"}}),
        (["owners={docs: d@x.com}", "owners.support=s@x.com"], {"owners": {"docs": "d@x.com", "support": "s@x.com"}}),
        (["subject=a=b"], {"subject": "a=b"}),
        (["when=[2026-12-15]"], {"when": ["2026-12-15"]}),
    ],
)
def test_pairs_become_params(pairs: list[str], params: dict[str, Any]) -> None:
    assert parse_params(pairs, None) == params


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (r"a\n\nb", "a\n\nb"),
        (r"col\tcol", "col\tcol"),
        (r"C:\\new", "C:\\new"),
        (r"a\\nb", "a\\nb"),  # an escaped backslash, then a plain n
        (r"\d+ and \x", r"\d+ and \x"),  # any other backslash stays as typed
        ("real\nnewline", "real\nnewline"),
    ],
)
def test_escapes_in_a_value_are_the_characters(raw: str, value: str) -> None:
    assert parse_params([f"body={raw}"], None) == {"body": value}


def test_a_param_overrides_the_files_value_and_keeps_the_rest(tmp_path: Path) -> None:
    file = written(
        tmp_path,
        "product: From file\nlaunch_date: 2026-12-15\napprovers: [a@x.com]\n"
        "owners: {docs: d@x.com, support: s@x.com}\n",
    )

    params = parse_params(["product=From param", "approvers=b@x.com", "owners.docs=e@x.com"], file)

    assert params == {
        "product": "From param",
        "launch_date": "2026-12-15",
        "approvers": "b@x.com",
        "owners": {"docs": "e@x.com", "support": "s@x.com"},
    }


def test_a_param_given_twice_over_a_file_is_a_list_of_the_params_alone(tmp_path: Path) -> None:
    file = written(tmp_path, "approvers: [a@x.com]\nowners: nobody\n")

    params = parse_params(["approvers=b@x.com", "approvers=c@x.com", "owners.docs=d@x.com"], file)

    assert params == {"approvers": ["b@x.com", "c@x.com"], "owners": {"docs": "d@x.com"}}


def test_a_file_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    file = written(tmp_path, "\ufeffproduct: Acme\nwhen: 2026-12-15T09:00:00Z\n".encode())

    assert parse_params([], file) == {"product": "Acme", "when": "2026-12-15T09:00:00+00:00"}


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        ("product: Caf\xe9\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9 at offset 12); save it as UTF-8"),
        ("product: [unclosed\n", "is not valid YAML: expected ',' or ']', but got '<stream end>' at line 2, column 1"),
        (
            "product: a\n\tlaunch_date: b\n",
            "is not valid YAML: found character '\\t' that cannot start any token at line 2, column 1",
        ),
        ("- a list\n", "must hold a mapping of parameter names to values"),
        ("", "must hold a mapping of parameter names to values"),
    ],
)
def test_a_bad_file_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, sentence: str
) -> None:
    file = written(tmp_path, content)

    assert refusal(capsys, [], file) == f"signoff: {file} {sentence}\n"


def test_a_missing_file_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.yaml"

    assert refusal(capsys, [], missing) == f"signoff: cannot read {missing}: No such file or directory\n"


@pytest.mark.parametrize(
    ("pairs", "sentence"),
    [
        (["oops"], "--param 'oops' is not of the form name=value"),
        (["=x"], "--param '=x' is not of the form name=value"),
        (["owners..docs=x"], "is not of the form name=value"),
        (["approvers=[a, b"], "--param approvers: '[a, b' is not a YAML list or mapping (expected ',' or ']'"),
        (["owners=x", "owners.docs=y"], "--param owners.docs: another --param already gives owners a value"),
        (["owners.docs=y", "owners={support: z}"], "--param owners: another --param already gives one of its keys"),
    ],
)
def test_a_bad_param_is_one_sentence(capsys: pytest.CaptureFixture[str], pairs: list[str], sentence: str) -> None:
    assert sentence in refusal(capsys, pairs)


def test_a_choice_outside_the_known_ones_is_refused_naming_them(capsys: pytest.CaptureFixture[str]) -> None:
    one_of("--status", None, ["running", "waiting"])
    one_of("--status", "waiting", ["running", "waiting"])
    with pytest.raises(typer.Exit) as exited:
        one_of("--status", "bogus", ["running", "waiting"])

    assert exited.value.exit_code == 2
    assert capsys.readouterr().err == "signoff: --status 'bogus' is not one of running, waiting\n"
