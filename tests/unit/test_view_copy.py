"""The store's copy of each process's page: kept from the batches of its trail, read when the process cannot answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.audit import ViewCopy
from domain.views import ItemState, ProcessView
from integrations.store import Store
from tests.unit.test_store import START, event


@pytest.fixture
def store(database_url: str) -> Store:
    return Store.connect(database_url)


def whole(**changes: Any) -> dict[str, Any]:
    """A launch's view as a workflow sends it the first time (as JSON, less what is worked out on reading)."""
    view = ProcessView(
        id="launch-acme", kind="launch", title="Launch of launch-acme", status="running", owner="pm@example.com",
        params={"product": "Acme"}, steps=[{"key": "kickoff", "title": "Kickoff", "status": "active"}],
        recorded_events=2,
    )  # fmt: skip
    fields = view.model_dump(mode="json", exclude={"pending", "live", "as_of", "unavailable"})
    return fields | changes


def copy(fields: dict[str, Any], since: int = 0, minutes: int = 0) -> ViewCopy:
    return ViewCopy(at=START + timedelta(minutes=minutes), since=since, fields=fields)


def test_a_batch_keeps_the_whole_view_it_came_with(store: Store) -> None:
    store.append_all([event(1), event(2)], copy(whole(), minutes=2))

    kept = store.process_view("launch-acme")

    assert kept is not None
    assert (kept.live, kept.as_of, kept.unavailable) == (False, START + timedelta(minutes=2), None)
    assert kept.model_dump(mode="json", exclude={"pending", "live", "as_of", "unavailable"}) == whole()


def test_what_changed_is_laid_over_the_copy_it_changes(store: Store) -> None:
    store.append_all([event(1), event(2)], copy(whole(), minutes=2))
    done = [{"key": "kickoff", "title": "Kickoff", "status": "done"}]

    store.append_all([event(3)], copy({"steps": done, "recorded_events": 3}, since=2, minutes=3))

    kept = store.process_view("launch-acme")
    assert kept is not None
    assert [(s.key, s.status) for s in kept.steps] == [("kickoff", "done")]
    assert (kept.recorded_events, kept.params, kept.as_of) == (3, {"product": "Acme"}, START + timedelta(minutes=3))


def test_a_change_to_another_copy_is_left_out_not_mixed_in(store: Store) -> None:
    store.append_all([event(1), event(2)], copy(whole(), minutes=2))

    store.append_all([event(3)], copy({"recorded_events": 3}, since=1, minutes=3))  # not the copy the store holds

    kept = store.process_view("launch-acme")
    assert kept is not None
    assert (kept.recorded_events, kept.as_of) == (2, START + timedelta(minutes=2))
    assert [e.seq for e in store.trail("launch-acme")] == [1, 2, 3]  # the events are kept all the same


def test_a_retried_batch_changes_nothing(store: Store) -> None:
    store.append_all([event(1), event(2)], copy(whole(), minutes=2))
    store.append_all([event(3)], copy({"recorded_events": 3}, since=2, minutes=3))

    store.append_all([event(3)], copy({"recorded_events": 3}, since=2, minutes=3))

    kept = store.process_view("launch-acme")
    assert kept is not None and (kept.recorded_events, kept.as_of) == (3, START + timedelta(minutes=3))


def test_a_process_that_sent_no_copy_shows_its_line_of_the_list(store: Store) -> None:
    store.append_all([event(1), event(2)])

    kept = store.process_view("launch-acme")

    assert kept is not None
    assert (kept.id, kept.kind, kept.title, kept.status, kept.owner) == (
        "launch-acme", "launch", "Launch of launch-acme", "running", "pm@example.com",
    )  # fmt: skip
    assert (kept.live, kept.as_of, kept.steps) == (False, START + timedelta(minutes=2), [])


def test_a_copy_keeps_what_still_reads_as_a_view(store: Store) -> None:
    store.append_all([event(1)], copy(whole(retired_field="from an older version"), minutes=1))

    kept = store.process_view("launch-acme")

    assert kept is not None and kept.params == {"product": "Acme"}


def test_an_unknown_process_has_no_copy(store: Store) -> None:
    assert store.process_view("launch-nobody") is None


def test_the_process_list_leaves_the_copies_out(store: Store) -> None:
    store.append_all([event(1)], copy(whole(), minutes=1))

    [row] = store.processes()
    line = store.process("launch-acme")

    assert line is not None
    assert not any(name.startswith("view_") for name in [*row, *line])


# ---- what travels ---------------------------------------------------------------


def item(key: str, **changes: Any) -> dict[str, Any]:
    fields = {"key": key, "title": key.title(), "role": key, "owner": f"{key}@example.com", "due": "2027-01-01"}
    return ItemState.model_validate(fields | changes).model_dump(mode="json")


ITEMS = [item("docs"), item("legal")]


def test_a_first_copy_is_the_whole_view() -> None:
    first = ViewCopy.between({}, whole(items=ITEMS), at=START, since=0)

    assert (first.since, first.fields, first.entries) == (0, whole(items=ITEMS), {})


def test_of_a_keyed_list_only_the_entries_that_changed_or_came_travel() -> None:
    filed = [ITEMS[0], item("legal", issue_key="LAUNCH-2")]
    added = [*filed, item("support")]

    change = ViewCopy.between(whole(items=ITEMS), whole(items=added, recorded_events=3), at=START, since=2)

    assert change.fields == {"recorded_events": 3}
    assert change.entries == {"items": added[1:]}
    assert change.laid_over(whole(items=ITEMS)) == whole(items=added, recorded_events=3)


def test_a_keyed_list_that_lost_or_moved_an_entry_travels_whole() -> None:
    for after in (ITEMS[:1], ITEMS[::-1]):
        change = ViewCopy.between(whole(items=ITEMS), whole(items=after), at=START, since=2)

        assert (change.fields, change.entries) == ({"items": after}, {})


def test_entries_of_a_list_the_copy_lacks_are_not_laid_over_it() -> None:
    change = ViewCopy(at=START, since=2, fields={}, entries={"items": ITEMS})

    assert change.laid_over(whole()) is not None  # `whole()` has items: []
    assert change.laid_over({"id": "launch-acme"}) is None


def test_the_store_lays_changed_entries_over_its_copy(store: Store) -> None:
    store.append_all([event(1), event(2)], copy(whole(items=ITEMS), minutes=2))
    filed = [item("docs", issue_key="LAUNCH-1"), ITEMS[1]]

    store.append_all([event(3)], ViewCopy.between(whole(items=ITEMS), whole(items=filed), at=START, since=2))

    kept = store.process_view("launch-acme")
    assert kept is not None and [i.issue_key for i in kept.items] == ["LAUNCH-1", None]
