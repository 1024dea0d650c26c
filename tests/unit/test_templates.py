"""Process templates: the bundled one loads, broken ones say what is wrong and where."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import templates as templates_module
from config.templates import PROCESSES, TemplateError, Templates, load_template

SUPPORT_TRAINING = 6  # index of `support-training` in the bundled launch template


def bundled() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROCESSES / "launch.yaml").read_text())
    assert data["items"][SUPPORT_TRAINING]["key"] == "support-training"
    return data


def broken_copy(tmp_path: Path, breaks: Callable[[dict[str, Any]], None]) -> Path:
    data = bundled()
    breaks(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def load_error(path: Path) -> str:
    with pytest.raises(TemplateError) as caught:
        load_template(str(path))
    return str(caught.value)


# ---- the bundled template ---------------------------------------------------


def test_bundled_launch_template_has_at_least_ten_items() -> None:
    assert len(load_template("launch").items) >= 10


def test_bundled_launch_template_keys_are_unique() -> None:
    keys = [item.key for item in load_template("launch").items]
    assert len(keys) == len(set(keys))


def test_every_bundled_item_has_a_role_a_past_due_offset_and_a_description() -> None:
    for item in load_template("launch").items:
        assert item.role, item.key
        assert item.due_offset_days <= 0, item.key
        assert item.description.strip(), item.key


def test_bundled_template_loads_by_path_too() -> None:
    assert load_template(str(PROCESSES / "launch.yaml")) == load_template("launch")


# ---- broken templates ---------------------------------------------------------


def test_wrong_type_names_file_item_and_field(tmp_path: Path) -> None:
    def breaks(data: dict[str, Any]) -> None:
        data["items"][SUPPORT_TRAINING]["due_offset_days"] = "a week before"

    path = broken_copy(tmp_path, breaks)
    message = load_error(path)
    assert str(path) in message
    assert "items[6] (support-training).due_offset_days" in message


def test_positive_due_offset_names_the_item(tmp_path: Path) -> None:
    def breaks(data: dict[str, Any]) -> None:
        data["items"][SUPPORT_TRAINING]["due_offset_days"] = 5

    assert "items[6] (support-training).due_offset_days" in load_error(broken_copy(tmp_path, breaks))


def test_reconciliation_may_be_more_often_than_hourly_but_not_under_a_minute(tmp_path: Path) -> None:
    def every(hours: float) -> Callable[[dict[str, Any]], None]:
        return lambda data: data["tracker"].update(reconcile_every_hours=hours)

    quarter = load_template(str(broken_copy(tmp_path, every(0.25))))
    assert quarter.tracker.reconcile_every_hours == 0.25  # type: ignore[union-attr]
    message = load_error(broken_copy(tmp_path, every(0.01)))
    assert "tracker.reconcile_every_hours" in message
    assert "under a minute" in message
    assert "over a year" in load_error(broken_copy(tmp_path, every(10_000)))
    for never in (float("inf"), float("nan")):  # YAML's .inf and .nan: not a number of hours a timer can wait
        assert "tracker.reconcile_every_hours" in load_error(broken_copy(tmp_path, every(never)))


def test_missing_role_names_file_item_and_field(tmp_path: Path) -> None:
    def breaks(data: dict[str, Any]) -> None:
        del data["items"][SUPPORT_TRAINING]["role"]

    path = broken_copy(tmp_path, breaks)
    message = load_error(path)
    assert str(path) in message
    assert "items[6] (support-training).role" in message
    assert "required" in message.lower()


def test_unknown_field_names_file_item_and_field(tmp_path: Path) -> None:
    def breaks(data: dict[str, Any]) -> None:
        data["items"][SUPPORT_TRAINING]["assignee"] = "someone@example.com"

    path = broken_copy(tmp_path, breaks)
    message = load_error(path)
    assert str(path) in message
    assert "items[6] (support-training).assignee" in message


def test_unknown_top_level_field_is_named(tmp_path: Path) -> None:
    def breaks(data: dict[str, Any]) -> None:
        data["colour"] = "blue"

    assert "colour" in load_error(broken_copy(tmp_path, breaks))


def test_duplicate_keys_name_file_and_key(tmp_path: Path) -> None:
    def breaks(data: dict[str, Any]) -> None:
        data["items"][SUPPORT_TRAINING]["key"] = "release-notes"

    path = broken_copy(tmp_path, breaks)
    message = load_error(path)
    assert str(path) in message
    assert "items" in message
    assert "'release-notes' is used twice" in message


def test_not_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "garbled.yaml"
    path.write_text("items: [unclosed\n  - key: : x\n")
    message = load_error(path)
    assert str(path) in message
    assert "not valid YAML" in message


def test_empty_file_is_a_template_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert str(path) in load_error(path)


def test_unknown_template_name_lists_the_known_ones() -> None:
    with pytest.raises(TemplateError) as caught:
        load_template("no-such-process")
    message = str(caught.value)
    assert "no-such-process" in message
    assert re.search(r"known: .*\blaunch\b", message)


def test_templates_are_read_once_per_change_of_their_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ours.yaml").write_text(yaml.safe_dump(bundled(), sort_keys=False))
    templates = Templates([tmp_path])
    reads: list[str] = []
    real_load = templates_module.load_template
    monkeypatch.setattr(templates_module, "load_template", lambda *a, **k: reads.append(a[0]) or real_load(*a, **k))

    first, again = templates("ours", "launch"), templates("ours", "launch")
    assert len(reads) == 1 and first == again

    edited = bundled()
    edited["notify_hour_utc"] = 7
    (tmp_path / "ours.yaml").write_text(yaml.safe_dump(edited, sort_keys=False))
    os.utime(tmp_path / "ours.yaml", ns=(1, 1))  # another modification time, whatever the clock's resolution
    assert templates("ours", "launch").notify_hour_utc == 7 and len(reads) == 2


def test_a_cached_template_is_handed_out_as_a_copy() -> None:
    templates = Templates()
    first = templates("launch", "launch")
    first.items.clear()

    assert len(templates("launch", "launch").items) >= 10


def test_the_cache_says_what_is_missing_like_a_load() -> None:
    with pytest.raises(TemplateError, match="template 'nope' not found"):
        Templates()("nope", "launch")
