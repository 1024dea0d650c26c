"""Readable process ids."""

from __future__ import annotations

from datetime import date

import pytest

from domain.ids import process_id, slug


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme Analytics 2.0", "acme-analytics-2-0"),
        ("  Hello,   World!  ", "hello-world"),
        ("already-a-slug", "already-a-slug"),
        ("Café Ü", "caf"),
        ("---", ""),
        ("", ""),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_process_id_joins_kind_and_key() -> None:
    assert process_id("launch", "Acme Analytics 2.0", "2026-12-15") == "launch-acme-analytics-2-0-2026-12-15"


def test_process_id_accepts_non_string_keys() -> None:
    assert process_id("launch", "Acme", date(2026, 12, 15), 2) == "launch-acme-2026-12-15-2"


def test_process_id_of_kind_alone() -> None:
    assert process_id("Launch") == "launch"
