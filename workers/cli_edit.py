"""`signoff edit ID …`: change a running process through the web service (``POST /api/processes/{id}/edits``).

Only what is named changes: a launch's date (``--launch-date``), a message's send time (``--send-at``), an end
of life's later milestones (``--end-of-sale``, ``--end-of-support``, ``--shutdown-date``), who
decides at its gate (``--replace-approver old=new``, ``--add-approver``, ``--remove-approver``, each as often as
needed), who owns an item (``--item-owner key=email``) and which items there are (``--add-item
"TITLE|OWNER|DUE"``, ``--remove-item KEY``). The people it affects are told; the trail's ``edited``
event names every change.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workers.cli_client import UrlOption, call
from workers.cli_support import fail


def pairs(option: str, given: list[str]) -> dict[str, str]:
    """``a=b`` pairs of a repeated option, as a mapping; a malformed one ends the command (exit 2)."""
    found: dict[str, str] = {}
    for pair in given:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"{option} takes KEY=VALUE, not {pair!r}")
        if key.strip() in found:
            fail(f"{option} names {key.strip()} twice")
        found[key.strip()] = value.strip()
    return found


def new_items(given: list[str]) -> list[dict[str, str]]:
    """``TITLE|OWNER|DUE`` items of ``--add-item``; a malformed one ends the command (exit 2)."""
    items = []
    for spec in given:
        parts = [part.strip() for part in spec.split("|")]
        if len(parts) != 3 or not all(parts):
            fail(f"--add-item takes TITLE|OWNER|DUE (e.g. 'Pricing page|ann@example.com|2027-01-10'), not {spec!r}")
        items.append({"title": parts[0], "owner": parts[1], "due": parts[2]})
    return items


def edit_body(
    launch_date: str | None,
    send_at: str | None,
    replace: list[str],
    add: list[str],
    remove: list[str],
    owners: list[str],
    reason: str,
    add_items: list[str] = [],  # noqa: B006
    remove_items: list[str] = [],  # noqa: B006
    milestones: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """The edit's JSON body, with only what the options name (`milestones`: an end of life's field → its day)."""
    body: dict[str, Any] = {field: day for field, day in (milestones or {}).items() if day}
    if launch_date:
        body["launch_date"] = launch_date
    if send_at:
        body["send_at"] = send_at
    approvers = {"replace": pairs("--replace-approver", replace), "add": add, "remove": remove}
    if any(approvers.values()):
        body["approvers"] = {k: v for k, v in approvers.items() if v}
    if owners:
        body["owners"] = pairs("--item-owner", owners)
    if add_items:
        body["add_items"] = new_items(add_items)
    if remove_items:
        body["remove_items"] = remove_items
    if not body:
        fail("nothing to change: give --launch-date, --send-at, --end-of-sale, --end-of-support, --shutdown-date, "
             "--replace-approver, --add-approver, --remove-approver, --item-owner, --add-item or "
             "--remove-item")  # fmt: skip
    return body | ({"reason": reason} if reason else {})


def edit(
    process_id: Annotated[str, typer.Argument(metavar="ID")],
    launch_date: Annotated[
        str | None,
        typer.Option("--launch-date", metavar="DATE", help="A launch's new date (YYYY-MM-DD); it keeps its id."),
    ] = None,
    send_at: Annotated[
        str | None,
        typer.Option(
            "--send-at",
            metavar="TIME",
            help="A message's new send time (ISO 8601); without an offset, in the process's time zone.",
        ),
    ] = None,
    end_of_sale: Annotated[
        str | None, typer.Option("--end-of-sale", metavar="DATE", help="An end of life's new end of sale.")
    ] = None,
    end_of_support: Annotated[
        str | None, typer.Option("--end-of-support", metavar="DATE", help="An end of life's new end of support.")
    ] = None,
    shutdown_date: Annotated[
        str | None,
        typer.Option("--shutdown-date", metavar="DATE", help="An end of life's new shutdown; it keeps its id."),
    ] = None,
    replace_approver: Annotated[
        list[str],
        typer.Option("--replace-approver", metavar="OLD=NEW", help="NEW decides in OLD's place (OLD's link stops)."),
    ] = [],  # noqa: B006
    add_approver: Annotated[
        list[str], typer.Option("--add-approver", metavar="EMAIL", help="Someone else decides too.")
    ] = [],  # noqa: B006
    remove_approver: Annotated[
        list[str], typer.Option("--remove-approver", metavar="EMAIL", help="They no longer decide.")
    ] = [],  # noqa: B006
    item_owner: Annotated[
        list[str],
        typer.Option("--item-owner", metavar="ITEM=EMAIL", help="The item's new owner (its tracker issue follows)."),
    ] = [],  # noqa: B006
    add_item: Annotated[
        list[str],
        typer.Option("--add-item", metavar="TITLE|OWNER|DUE", help="A new item (its issue filed, its owner told)."),
    ] = [],  # noqa: B006
    remove_item: Annotated[
        list[str],
        typer.Option("--remove-item", metavar="KEY", help="An open item taken off (kept as won't-do, issue closed)."),
    ] = [],  # noqa: B006
    reason: Annotated[str, typer.Option(help="Why; told to the people it affects, kept in the trail.")] = "",
    url: UrlOption = None,
) -> None:
    """Change a running process: a launch's date, an end of life's milestones, who decides at its gate, who owns an
    item, which items."""
    body = edit_body(
        launch_date, send_at, replace_approver, add_approver, remove_approver, item_owner, reason, add_item,
        remove_item, milestones={"end_of_sale": end_of_sale, "end_of_support": end_of_support,
                                 "shutdown_date": shutdown_date},
    )  # fmt: skip
    edited = call(url, "POST", f"/api/processes/{process_id}/edits", json=body)
    for change in edited["changes"]:
        typer.echo(change["sentence"])
    typer.echo(f"{process_id} is changed; the people it affects are told")
