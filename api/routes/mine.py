"""Someone's work across the running processes: ``GET /api/mine`` and the page ``/mine``.

The items they own, the gates waiting on their decision and the messages
they review, overdue first (`domain.work`). Both read the store's copies of
the processes' pages (`Store.running_views_naming`: one query, no process
asked), so they answer fast, and when no worker does; a copy is as late as
the audit batch it came with, so an item done a moment ago may show for a
few seconds more.

An approval link is its approver's credential (docs/security.md): an entry
carries the person's own link to their approval page only when they are the
one asking (or in dev mode, whose outbox shows every link anyway): the link
of the latest request that asked them (the first, a reminder, or one after an
edit or a hand-over), as signoff recorded it with the email's outbox row,
sent or not, never read from an email's text.
The answers are not kept by caches (``Cache-Control: no-store``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import CurrentUser, Services, ServicesDep
from api.rendering import TEMPLATES
from api.schemas import MyWork
from domain.access import Caller, Role
from domain.enums import GateStatus
from domain.errors import Forbidden
from domain.views import ProcessView
from domain.work import WorkEntry, in_order, work_of

router = APIRouter(tags=["mine"])

Person = Annotated[
    str | None,
    Query(max_length=320, description="Whose work (an email); only an admin may ask for someone else's."),
]


def my_work(svc: Services, caller: Caller, person: str | None, base_url: str) -> MyWork:
    """What waits on `person` (default: the caller) across the running processes, links under `base_url`.

    Raises:
        Forbidden: someone but an admin asked for another person's work.
    """
    who = (person or "").strip().lower() or caller.email.lower()
    if not caller.is_(who) and caller.role is not Role.ADMIN:
        raise Forbidden(
            f"only an admin sees another person's work; you ({caller.email}) see your own: leave out person"
        )
    today = svc.processes.today()
    views = svc.store.running_views_naming(who)
    entries = [entry for view in views for entry in work_of(who, view, today, base_url)]
    if caller.is_(who) or svc.auth.dev_mode:
        _add_links(svc, who, views, entries, base_url)
    return MyWork(person=who, today=today, entries=in_order(entries))


def _add_links(svc: Services, who: str, views: list[ProcessView], entries: list[WorkEntry], base_url: str) -> None:
    """Give each decision and review of `entries` the approval page `who` was last sent for it: their own, or, for
    one handed to them, the one deciding on behalf of whom they stand in for.

    The link is the one signoff put in the request's outbox row (`Store.approval_links`), never one read from a
    body: a body may quote what the process's owner wrote, a fake ``/approve/`` link included.
    """
    gates = {(view.id, gate.key): gate for view in views for gate in view.gates if gate.status == GateStatus.OPEN}
    links = svc.store.approval_links([view.id for view in views], who)
    for entry in entries:
        gate = gates.get((entry.process.id, entry.key))
        if entry.what == "item" or gate is None:
            continue
        mine = [""] if who in gate.waiting_on else []
        for_whom = mine + [a for a in gate.waiting_on if gate.delegates.get(a) == who]
        found = [url for f in for_whom if (url := links.get((entry.process.id, gate.key, gate.round, f)))]
        if found:
            entry.approval_link = base_url + "/approve/" + found[0].rpartition("/approve/")[2]


@router.get("/api/mine", response_model=MyWork)
def mine(svc: ServicesDep, caller: CurrentUser, response: Response, person: Person = None) -> MyWork:
    """What waits on you across the running processes — the items you own that are open, the gates waiting on
    your decision (with your approval page) and the messages you review — overdue first, then by due date, each
    with its process. ``person``: someone else's (an admin only; 403 for anyone else), without their links.

    Read from the store's copies of the processes' pages: fast, and there when no worker answers, but as late as
    the last batch of each process's trail."""
    response.headers["Cache-Control"] = "no-store"
    return my_work(svc, caller, person, svc.public_url.rstrip("/"))


@router.get("/mine", include_in_schema=False, response_class=HTMLResponse)
def mine_page(request: Request, svc: ServicesDep, caller: CurrentUser, person: Person = None) -> Response:
    """My work, as a page: overdue first, each entry with its process; an admin may look at anyone's."""
    work = my_work(svc, caller, person, "")
    return TEMPLATES.TemplateResponse(
        request,
        "mine.html",
        {"work": work, "yours": caller.is_(work.person), "may_choose": caller.role is Role.ADMIN},
        headers={"Cache-Control": "no-store"},
    )
