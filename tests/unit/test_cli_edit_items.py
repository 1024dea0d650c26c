"""`signoff edit`'s ``--add-item TITLE|OWNER|DUE`` and ``--remove-item KEY`` as the request body says them."""

from __future__ import annotations

import pytest
import typer

from workers.cli_edit import edit_body


def test_items_added_and_removed_make_the_body() -> None:
    body = edit_body(None, None, [], [], [], [], "Docs later.", ["Pricing page | ann@example.com | 2027-01-10"],
                     ["documentation"])  # fmt: skip

    assert body == {
        "add_items": [{"title": "Pricing page", "owner": "ann@example.com", "due": "2027-01-10"}],
        "remove_items": ["documentation"],
        "reason": "Docs later.",
    }


def test_a_malformed_item_ends_the_command() -> None:
    with pytest.raises(typer.Exit):
        edit_body(None, None, [], [], [], [], "", ["Pricing page|ann@example.com"])
