"""`signoff user …`, `signoff token …` and `signoff login`: people, their roles and tokens.

`user` and `token` work on the configured database directly, like `audit
verify`: whoever runs them holds the settings, which is what makes them an
administrator (and how the first admin is made). `login` keeps a token for
the CLI's later commands.
"""

from __future__ import annotations

import getpass
import re
import socket
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from integrations.people import People

from domain.access import Role
from domain.errors import BadInput, NotFound
from workers import credentials
from workers.api_client import ApiClient, CliError
from workers.cli_support import fail, settings

people_app = typer.Typer(help="People and their roles (admin, member, viewer).", no_args_is_help=True)
tokens_app = typer.Typer(help="Tokens for the CLI and automation.", no_args_is_help=True)

RoleOption = Annotated[Role, typer.Option("--role", help="admin, member or viewer.", case_sensitive=False)]


def _people() -> People:
    from integrations.people import People  # the database's libraries load only for these commands
    from integrations.store import Store

    return People(Store.connect(settings().database()).engine)


def _operator() -> str:
    """Who runs an administrative command, for the record: the local account."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _email(value: str) -> str:
    # Not domain.models.Email: email-validator refuses @localhost, which dev mode's local admin is.
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost", value.strip()):
        fail(f"{value!r} is not an email address")
    return value.strip().lower()


EXPIRY = re.compile(r"(\d+)([hdw])")


def expiry(value: str | None, now: datetime) -> datetime | None:
    """``90d``, ``12h``, ``2w`` or a date (``2027-03-01``) as the moment a token stops working."""
    if value is None or value == "never":
        return None
    if found := EXPIRY.fullmatch(value.strip()):
        amount, unit = int(found[1]), found[2]
        return now + timedelta(hours=amount) * {"h": 1, "d": 24, "w": 24 * 7}[unit]
    try:
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        fail(f"--expires {value!r}: give a span (90d, 12h, 2w), a date (2027-03-01) or never")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@people_app.command("add")
def add_person(email: str, role: RoleOption = Role.MEMBER) -> None:
    """Give someone a role (again, to change it)."""
    person = _people().add(_email(email), role, by=_operator())
    typer.echo(f"{person.email} is {Role(person.role).with_article}")


@people_app.command("list")
def list_people() -> None:
    """Everyone signoff knows, with their role."""
    for person in _people().everyone():
        typer.echo(f"{person.email:40} {person.role:7} added {_when(person.added_at)} by {person.added_by}")


@people_app.command("remove")
def remove_person(email: str) -> None:
    """Forget someone: their role goes, and every token of theirs is revoked."""
    try:
        revoked = _people().remove(_email(email))
    except NotFound as err:
        fail(str(err))
    typer.echo(f"{_email(email)} removed; {revoked} token{'s' if revoked != 1 else ''} revoked")


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Option("--user", help="Whose token (added with --role if new).")],
    role: RoleOption,
    name: Annotated[str | None, typer.Option("--name", help="What it is for (default: cli).")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="90d, 12h, 2w, a date, or never.")] = None,
) -> None:
    """Make a token; it is printed once, alone on the last line (signoff keeps only its hash)."""
    people, email = _people(), _email(user)
    now = datetime.now(UTC)
    until = expiry(expires, now)
    if until is not None and until <= now:
        fail(f"--expires {expires!r} is already past")
    if people.person(email) is None:
        people.add(email, role, by=_operator())
        typer.echo(f"{email} was not known: added as {Role(role).with_article}")
    try:
        made, token = people.create_token(email, role, name or "cli", by=_operator(), expires_at=until)
    except (BadInput, NotFound) as err:
        fail(str(err))
    typer.echo(f"token {made.id} ({made.name}) for {made.email}, {made.role}, expires {_when(made.expires_at)}:")
    typer.echo(token)


@tokens_app.command("list")
def list_tokens(user: Annotated[str | None, typer.Option("--user", help="Only this person's.")] = None) -> None:
    """Every token (never the token itself): whose, its role, when it expires and was last used."""
    now = datetime.now(UTC)
    for t in _people().tokens(_email(user) if user else None):
        state = "revoked" if t.revoked_at else ("expired" if not t.usable(now) else "live")
        typer.echo(
            f"{t.id}  {t.email:32} {t.name:16} {t.role:7} {state:7} "
            f"expires {_when(t.expires_at)}  last used {_when(t.last_used_at)} ({t.uses} uses)"
        )


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[str, typer.Argument(metavar="ID", help="tok_… (signoff token list)")]) -> None:
    """Stop a token working, at once."""
    try:
        revoked = _people().revoke(token_id)
    except NotFound as err:
        fail(str(err))
    typer.echo(f"token {revoked.id} ({revoked.name}, {revoked.email}) is revoked")


def login(
    url: Annotated[str | None, typer.Option("--url", envvar="SIGNOFF_URL", help="The web service.")] = None,
    forget: Annotated[bool, typer.Option("--forget", help="Forget the token kept for this URL.")] = False,
) -> None:
    """Keep a token for the CLI's later commands: read from stdin (or asked for), checked, stored 0600."""
    base = (url or settings().public_url).rstrip("/")
    if forget:
        credentials.save(base, None)
        typer.echo(f"forgot the token for {base}")
        return
    token = sys.stdin.readline().strip() if not sys.stdin.isatty() else typer.prompt("token", hide_input=True)
    if not token:
        fail("no token given: make one with `signoff token create`, then paste it here")
    try:
        me = ApiClient(base, token=token).call("GET", "/api/me")
    except CliError as err:
        fail(f"{base} did not take this token: {err}", err.code)
    kept = credentials.save(base, token)
    typer.echo(f"signed in to {base} as {me['email']} ({me['role']}); the token is kept in {kept}")
