"""People, tokens and `signoff login`, run as an administrator and a user would, against `signoff dev --auth`.

With ``--auth`` the embedded stack has the production rules: nobody is the
local admin, every command proves who it is with a token.
"""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.devstack import DevStack, launch_params
from tests.integration.test_cli import ok, refused, signoff


@pytest.fixture(scope="module")
def guarded_stack(tmp_path_factory: pytest.TempPathFactory, templates: Path) -> Iterator[DevStack]:
    running = DevStack(tmp_path_factory.mktemp("data"), templates, "--auth")
    running.start()
    try:
        yield running
    finally:
        running.kill()


def token_of(stack: DevStack, *args: str) -> str:
    """`signoff token create ARGS`: the token, alone on the last line."""
    printed = ok(signoff(stack, "token", "create", *args)).splitlines()
    assert printed[-1].startswith("signoff_") and " " not in printed[-1], printed
    return printed[-1]


def test_the_stack_says_it_runs_the_real_rules(guarded_stack: DevStack) -> None:
    refusal = refused(signoff(guarded_stack, "list"))

    assert "who is asking?" in refusal
    assert "SIGNOFF_TOKEN" in refusal and "signoff login" in refusal


def test_a_member_token_starts_and_acts_as_its_person(guarded_stack: DevStack, tmp_path: Path) -> None:
    token = token_of(guarded_stack, "--user", "pm@example.com", "--role", "member", "--name", "release-bot")
    args = [f"--param={k}={v}" for k, v in launch_params("Token Launch", "2031-01-15").items() if isinstance(v, str)]
    args += ["--param=approvers=vp@example.com", "--param=approvers=legal@example.com"]

    started = ok(signoff(guarded_stack, "start", "launch", *args, SIGNOFF_TOKEN=token))
    process_id = started.split()[1]
    trail = ok(signoff(guarded_stack, "audit", process_id, "--format", "csv", SIGNOFF_TOKEN=token))

    assert "pm@example.com (token release-bot)" in trail.splitlines()[1]
    listed = ok(signoff(guarded_stack, "token", "list", "--user", "pm@example.com"))
    assert "release-bot" in listed and "live" in listed and "last used 20" in listed


def test_a_viewer_reads_and_may_not_start(guarded_stack: DevStack) -> None:
    token = token_of(guarded_stack, "--user", "auditor@example.com", "--role", "viewer", "--name", "audit")

    assert ok(signoff(guarded_stack, "list", SIGNOFF_TOKEN=token)) is not None
    refusal = refused(signoff(guarded_stack, "start", "launch", "--param=product=X", SIGNOFF_TOKEN=token))
    assert "this needs the member role; auditor@example.com is a viewer" in refusal


def test_login_keeps_the_token_for_the_user_alone(guarded_stack: DevStack, tmp_path: Path) -> None:
    token = token_of(guarded_stack, "--user", "lee@example.com", "--role", "member", "--name", "laptop")
    config = {"SIGNOFF_CONFIG_DIR": str(tmp_path / "config")}

    logged_in = subprocess.run(
        [*_signoff(), "login"], input=token + "\n", env=guarded_stack.env | _at(guarded_stack) | config,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert logged_in.returncode == 0, logged_in.stderr
    assert "signed in to" in logged_in.stdout and "lee@example.com (member)" in logged_in.stdout
    kept = tmp_path / "config" / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert ok(signoff(guarded_stack, "list", **config)) is not None  # no SIGNOFF_TOKEN: the kept one
    ok(signoff(guarded_stack, "login", "--forget", **config))
    refused(signoff(guarded_stack, "list", **config))


def test_a_bad_token_is_not_kept(guarded_stack: DevStack, tmp_path: Path) -> None:
    config = {"SIGNOFF_CONFIG_DIR": str(tmp_path / "config")}
    result = subprocess.run(
        [*_signoff(), "login"], input="signoff_not-a-token\n", env=guarded_stack.env | _at(guarded_stack) | config,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 2 and "did not take this token" in result.stderr
    assert not (tmp_path / "config" / "credentials.json").exists()


def test_revoking_and_removing_stop_tokens_at_once(guarded_stack: DevStack) -> None:
    first = token_of(guarded_stack, "--user", "sam@example.com", "--role", "member", "--name", "one")
    second = token_of(guarded_stack, "--user", "sam@example.com", "--role", "member", "--name", "two")
    [one] = [line.split()[0] for line in ok(signoff(guarded_stack, "token", "list")).splitlines() if " one " in line]

    ok(signoff(guarded_stack, "token", "revoke", one))
    assert "revoked or expired" in refused(signoff(guarded_stack, "list", SIGNOFF_TOKEN=first))
    assert ok(signoff(guarded_stack, "list", SIGNOFF_TOKEN=second)) is not None

    assert "1 token revoked" in ok(signoff(guarded_stack, "user", "remove", "sam@example.com"))
    refused(signoff(guarded_stack, "list", SIGNOFF_TOKEN=second))
    assert "sam@example.com" not in ok(signoff(guarded_stack, "user", "list"))


def test_a_token_never_does_more_than_its_person(guarded_stack: DevStack) -> None:
    ok(signoff(guarded_stack, "user", "add", "vi@example.com", "--role", "viewer"))

    refusal = refused(signoff(guarded_stack, "token", "create", "--user", "vi@example.com", "--role", "admin"))

    assert "vi@example.com is a viewer, not an admin" in refusal


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["token", "create", "--user", "x@example.com", "--role", "boss"], "Invalid value for '--role'"),
        (["token", "create", "--user", "x@example.com", "--role", "member", "--expires", "soon"], "--expires 'soon'"),
        (["token", "create", "--user", "not-an-email", "--role", "member"], "is not an email address"),
        (["token", "revoke", "tok_nothing"], "no token has the id"),
        (["user", "remove", "nobody@example.com"], "is not someone signoff knows"),
    ],
)
def test_bad_input_is_a_sentence(guarded_stack: DevStack, args: list[str], says: str) -> None:
    result = signoff(guarded_stack, *args)

    assert result.returncode == 2, result
    assert says in result.stderr and "Traceback" not in result.stderr


def _signoff() -> list[str]:
    from workers.temporal import find_binary

    return [find_binary("signoff")]


def _at(stack: DevStack) -> dict[str, str]:
    return {"SIGNOFF_URL": stack.base, "SIGNOFF_DATA_DIR": str(stack.data_dir)}


def test_schemathesis_finds_no_server_error_with_a_token(guarded_stack: DevStack, tmp_path: Path) -> None:
    """Property-based requests from the OpenAPI document, as an admin: whatever they send, never a 5xx."""
    token = token_of(guarded_stack, "--user", "fuzz@example.com", "--role", "admin", "--name", "schemathesis")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"), "run", f"{guarded_stack.base}/openapi.json",
            "--header", f"Authorization: Bearer {token}", "--checks", "not_a_server_error",
            "--max-examples", "15", "--seed", "1", "--phases", "examples,coverage,fuzzing",
            "--request-timeout", "30", "--report-dir", str(tmp_path),
            # A preview runs a whole process for seconds, one at a time (503 while busy): tests/api/test_plans.py
            "--exclude-path", "/api/plans",
        ],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,  # its own files stay there
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-4000:]
    passed = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert passed and int(passed[2]) > 300, result.stdout[-2000:]  # it did send requests, and every one passed


@pytest.mark.parametrize(
    "half_set",
    [{}, {"SIGNOFF_AUTH_OIDC_ISSUER": "https://idp.example.com", "SIGNOFF_AUTH_OIDC_CLIENT_ID": "signoff"}],
    ids=["nothing", "no-client-secret"],
)
def test_signoff_web_will_not_start_without_a_way_to_sign_in(tmp_path: Path, half_set: dict[str, str]) -> None:
    env = {k: v for k, v in DevStack(tmp_path, tmp_path).env.items()} | {"SIGNOFF_DATA_DIR": str(tmp_path)} | half_set

    result = subprocess.run([*_signoff(), "web"], env=env, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 2, result
    assert result.stderr.startswith("signoff: signoff web needs a way for people to sign in: set SIGNOFF_AUTH_OIDC")
    assert "Traceback" not in result.stderr
