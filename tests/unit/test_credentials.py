"""What `signoff login` keeps: readable by its user alone, whatever was there before."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workers import credentials


def test_the_kept_token_is_the_users_alone_even_over_a_loose_leftover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_CONFIG_DIR", str(tmp_path))
    leftover = tmp_path / "credentials.tmp"
    leftover.write_text("{}")
    os.chmod(leftover, 0o644)

    kept = credentials.save("http://signoff.test/", "signoff_abc")

    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert credentials.token_for("http://signoff.test") == "signoff_abc"
    credentials.save("http://signoff.test", None)
    assert credentials.token_for("http://signoff.test") is None
