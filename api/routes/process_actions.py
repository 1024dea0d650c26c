"""Acting from a process's page: mark an item done or won't-do, remind now, revise a message, file an action
item, change the process (its date, who decides, who owns what), give the word on a held step (re-run, skip, end),
cancel (from a confirmation page). The
undelivered messages' "Send again" is `api.routes.pages`'.

Each form posts to a route here that makes the same service call as its REST twin under ``/api/processes``,
and `api.access` holds both to the same rule (docs/security.md's table); `api.page_actions` shows a form only
to those its route lets in. Like every change, a post from another site's page is refused
(`api.access.same_site`). A change done sends the browser back to the process page, which says once what was
done (POST, redirect, GET); one refused shows the page again with why, and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import CurrentUser, Services, ServicesDep
from api.page_actions import FLASH, Problem
from api.rendering import TEMPLATES
from api.routes.pages import process_page
from api.schemas import CancelRequest, ItemDoneRequest, RecoverRequest, RevisionRequest
from domain.edits import EditChanges, EditInput
from domain.errors import BadInput, Forbidden, SignoffError, Unauthenticated
from domain.postmortem import ActionItemsInput, ActionItemSpec
from domain.updates import RecoverInput, Reminded, RemindInput, RevisionInput
from domain.views import ProcessView

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)

Again = Callable[[str, int], Awaitable[Response]]
"""The page to show again after a refusal, with its sentence and status."""


async def form_of(request: Request) -> dict[str, str]:
    """The posted form's text fields, a text area's lines as typed (browsers send them CRLF)."""
    return {k: v.replace("\r\n", "\n") for k, v in (await request.form()).items() if isinstance(v, str)}


def readable(err: ValidationError) -> str:
    """Pydantic's errors, one sentence per field."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg'].removeprefix('Value error, ')}"
                     for e in err.errors())  # fmt: skip


async def act(request: Request, process_id: str, change: Callable[[], Awaitable[str]], again: Again) -> Response:
    """Make `change` (the service call; it returns what to tell the person), then back to the process page,
    which says it; a refusal is `again`, with why."""
    from api.app import status_of  # (the app includes this module's router)

    try:
        said = await change()
    except ValidationError as err:
        return await again(readable(err), 422)
    except (Forbidden, Unauthenticated):
        raise
    except SignoffError as err:
        return await again(str(err), status_of(err))
    request.session[FLASH] = {"process": process_id, "text": said}
    return RedirectResponse(f"/processes/{quote(process_id)}", status_code=303)


def on_the_page(request: Request, svc: Services, process_id: str, form: str, values: dict[str, str]) -> Again:
    """The process page again, with the refusal beside `form` and its `values` kept."""

    async def again(message: str, status: int) -> Response:
        request.state.problem = Problem(form, message, values)
        page = await process_page(process_id, request, svc)
        page.status_code = status
        return page

    return again


@router.post("/processes/{process_id}/items/{item}/done", include_in_schema=False)
async def resolve_item(process_id: str, item: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """An item's "Mark done", or "Won't do" with its reason."""
    values = await form_of(request)

    async def change() -> str:
        body = ItemDoneRequest.model_validate({k: v for k, v in values.items() if k in ("resolution", "reason")})
        wont_do = body.reason if body.resolution == "wont_do" else None
        state = await svc.processes.mark_done(process_id, item, caller.actor, caller.channel, wont_do)
        return f"“{state.title}” is {'won’t do' if state.status == 'wont_do' else 'done'}."

    return await act(request, process_id, change, on_the_page(request, svc, process_id, item, values))


@router.post("/processes/{process_id}/steps/{step}/recover", include_in_schema=False)
async def recover_from_page(
    process_id: str, step: str, request: Request, svc: ServicesDep, caller: CurrentUser
) -> Response:
    """The held step's form: run it again, skip it, or end the process, with the reason the trail keeps."""
    values = await form_of(request)

    async def change() -> str:
        body = RecoverRequest.model_validate({k: v for k, v in values.items() if k in ("action", "reason")})
        word = RecoverInput(step=step, action=body.action, reason=body.reason, by=caller.actor, channel=caller.channel)
        view = await svc.processes.recover(process_id, word)
        title = next((s.title for s in view.steps if s.key == step), step)
        return {
            "rerun": f"{title} runs again; those it asks are told why: “{body.reason.strip()}”.",
            "skip": f"{title} is skipped: the process goes on without it.",
        }.get(body.action, f"{view.title} is ended; the people involved are told why.")

    return await act(request, process_id, change, on_the_page(request, svc, process_id, "recover", values))


@router.post("/processes/{process_id}/remind", include_in_schema=False)
async def remind_from_page(process_id: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """ "Remind now": the people the process waits on get their reminder now."""

    async def change() -> str:
        return reminding(await svc.processes.remind(process_id, RemindInput(by=caller.actor, channel=caller.channel)))

    return await act(request, process_id, change, on_the_page(request, svc, process_id, "remind", {}))


def reminding(reminded: Reminded) -> str:
    """Who a reminder goes to, as a sentence."""
    people = [f"{', '.join(reminded.approvers)} ({reminded.gate})"] if reminded.approvers else []
    people += [f"{owner} ({len(keys)} item{'s' if len(keys) != 1 else ''})" for owner, keys in reminded.owners.items()]
    listed = people[0] if len(people) == 1 else f"{', '.join(people[:-1])} and {people[-1]}"
    return f"Reminders are on their way to {listed}."


@router.post("/processes/{process_id}/revisions", include_in_schema=False)
async def revise_from_page(process_id: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """A new version of the message under review: earlier approvals are void, the reviewers are asked again."""
    values = await form_of(request)

    async def change() -> str:
        typed = {"body": values.get("body", ""), "comment": values.get("comment", "")}
        body = RevisionRequest.model_validate(typed | ({"subject": values["subject"]} if values.get("subject") else {}))
        version = await svc.processes.revise(
            process_id, RevisionInput(**body.model_dump(), by=caller.actor, channel=caller.channel)
        )
        return f"Version {version.version} is under review: earlier approvals are void, the reviewers are asked again."

    return await act(request, process_id, change, on_the_page(request, svc, process_id, "revisions", values))


@router.post("/processes/{process_id}/action-items", include_in_schema=False)
async def file_from_page(process_id: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """File an action item on a post-mortem: a tracker issue, its owner told, chased until done or won't-do."""
    values = await form_of(request)

    async def change() -> str:
        typed = {
            k: values[k] for k in ("title", "owner", "priority", "due", "description") if values.get(k, "").strip()
        }
        spec = ActionItemSpec.model_validate(typed)
        [item] = await svc.processes.add_action_items(
            process_id,
            ActionItemsInput(items=[spec], by=caller.actor, channel=caller.channel).dated_within(svc.processes.today()),
        )
        return f"{item.key}, “{item.title}”, is filed for {item.owner}, due {item.due}."

    return await act(request, process_id, change, on_the_page(request, svc, process_id, "action-items", values))


@router.post("/processes/{process_id}/edits", include_in_schema=False)
async def edit_from_page(process_id: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """The page's "Change this process": what differs from the process as it stands is the edit (a date, an
    approver's address changed or emptied, approvers added, an item's owner changed)."""
    values = await form_of(request)

    async def change() -> str:
        view = await svc.processes.view(process_id)
        edited = await svc.processes.edit(
            process_id,
            EditInput(**dict(changes_in(values, view, svc.processes.now())), by=caller.actor, channel=caller.channel),
            stored=svc.store,
        )
        said = "; ".join(change.sentence for change in edited.changes)
        return f"Changed: {said[:1].upper()}{said[1:]}. The people it affects are told."

    return await act(request, process_id, change, on_the_page(request, svc, process_id, "edits", values))


def changes_in(values: dict[str, str], view: ProcessView, now: datetime) -> EditChanges:
    """The edit a page's form asks for: each field that differs from `view` (``launch_date``, ``send_at``;
    ``approver.OLD`` changed, or emptied to remove them; ``add_approvers``; ``owner.ITEM``; an item added or
    removed, `items_changed`), and why; a send time without an offset read in the process's time zone, every date
    within the horizon (`EditChanges.taken`, as of `now`).

    Raises:
        ValidationError: a field is malformed, or nothing differs.
        InvalidField: a date past the horizon.
    """
    approvers = view.gates[0].approvers if view.gates else []
    replace, remove = {}, []
    for approver in approvers:
        typed = values.get(f"approver.{approver}", approver).strip().lower()
        if not typed:
            remove.append(approver)
        elif typed != approver:
            replace[approver] = typed
    owners = {
        item.key: typed
        for item in view.items
        if (typed := values.get(f"owner.{item.key}", item.owner).strip().lower()) and typed != item.owner
    }
    date, send_at = values.get("launch_date", "").strip(), values.get("send_at", "").strip()
    typed_edit: dict[str, object] = {
        "launch_date": date if date and date != view.params.get("launch_date") else None,
        "send_at": send_at if send_at and send_at != view.params.get("send_at") else None,
        "approvers": {"replace": replace, "remove": remove, "add": values.get("add_approvers", "")},
        "owners": owners,
        "reason": values.get("reason", ""),
    }
    changes = EditChanges.model_validate(typed_edit | items_changed(values, view))
    return changes.taken(str(view.params.get("time_zone") or ""), now)


def items_changed(values: dict[str, str], view: ProcessView) -> dict[str, object]:
    """The checklist's part of a page's edit: the item typed into "Add an item" (``new_item_title``,
    ``new_item_owner``, ``new_item_due``; any of them typed adds it, and what is missing is named), and the open
    items ticked to remove (``remove.ITEM``)."""
    new = {field: values.get(f"new_item_{field}", "").strip() for field in ("title", "owner", "due")}
    ticked = [item.key for item in view.items if item.status == "open" and values.get(f"remove.{item.key}")]
    return {"add_items": [new] if any(new.values()) else [], "remove_items": ticked}


@router.get("/processes/{process_id}/cancel", include_in_schema=False)
async def cancel_confirmation(process_id: str, request: Request, svc: ServicesDep) -> Response:
    """The confirmation page of a cancel: what it does, and the form that says why."""
    view = await svc.processes.view(process_id, svc.store)
    return TEMPLATES.TemplateResponse(request, "cancel.html", {"view": view, "problem": None})


@router.post("/processes/{process_id}/cancel", include_in_schema=False)
async def cancel_from_page(process_id: str, request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """Cancel, from its confirmation page, with the reason the people involved are told."""
    values = await form_of(request)

    async def change() -> str:
        reason = CancelRequest.model_validate({"reason": values.get("reason", "")}).reason.strip()
        if not reason:
            raise BadInput("say why it is cancelled: the people involved are told")
        view = await svc.processes.cancel(process_id, caller.actor, reason, caller.channel)
        return f"{view.title} is cancelled; the people involved are told why: “{reason}”."

    async def again(message: str, status: int) -> Response:
        view = await svc.processes.view(process_id, svc.store)
        context = {"view": view, "problem": Problem("cancel", message, values)}
        return TEMPLATES.TemplateResponse(request, "cancel.html", context, status_code=status)

    return await act(request, process_id, change, again)
