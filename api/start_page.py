"""`/start`: start a process from the dashboard, with a form made from its kind's parameters.

The form is generated from the kind's pydantic parameter model (its JSON
schema), so a new parameter appears here without a template change. What is
typed goes to the same `Processes.start` as ``POST /api/processes``; a refused
field is shown again next to its input. Plain HTML, no JavaScript: choosing a
kind reloads the page with that kind's fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import services
from api.pages import TEMPLATES
from api.service import ParamsError
from domain.errors import BadInput, Conflict
from domain.kinds import KINDS

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)

LONG_TEXT = {"body"}
"""String parameters that get a text area rather than a line."""


@dataclass(frozen=True)
class Field:
    """One input of the start form."""

    name: str
    label: str
    control: str  # text, email, date, url, textarea, list, mapping, select
    required: bool
    default: str = ""
    hint: str = ""
    options: tuple[str, ...] = ()

    @property
    def multiline(self) -> bool:
        return self.control in ("textarea", "list", "mapping")


def form_fields(kind: str) -> list[Field]:
    """The inputs of a kind's start form, required ones first, from its parameter model's JSON schema."""
    schema = KINDS[kind].params.model_json_schema()
    required = set(schema.get("required", []))
    fields = [_field(name, prop, name in required) for name, prop in schema["properties"].items()]
    return sorted(fields, key=lambda f: not f.required)


def _field(name: str, prop: dict[str, Any], required: bool) -> Field:
    label = name.replace("_", " ").capitalize()
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    default = "" if prop.get("default") in (None, [], {}) else str(prop["default"])
    first = options[0]
    if len(options) == 1 and "enum" in first:
        return Field(name, label, "select", required, default, options=tuple(first["enum"]))
    if len(options) > 1:  # a policy: all, any or a number
        choices = [str(v) for o in options for v in o.get("enum", ["a number"])]
        return Field(name, label, "text", required, default, hint=f"{', '.join(choices[:-1])} or {choices[-1]}")
    if first.get("type") == "array":
        item = first.get("items", {})
        hint = "one per line" + (": email:role" if "$ref" in item else "")
        return Field(name, label, "list", required, default, hint=hint)
    if first.get("type") == "object":
        return Field(name, label, "mapping", required, default, hint="one per line: name=email")
    control = {"date": "date", "email": "email", "uri": "url"}.get(first.get("format", ""), "text")
    hint = "with a zone: 2026-11-22T14:30Z" if first.get("format") == "date-time" else ""
    return Field(name, label, "textarea" if name in LONG_TEXT else control, required, default, hint=hint)


def params_of(fields: list[Field], form: dict[str, str]) -> dict[str, Any]:
    """What was typed, as parameters: lists one per line, mappings as ``name=value`` lines; blanks left out."""
    params: dict[str, Any] = {}
    for field in fields:
        raw = form.get(field.name, "").replace("\r\n", "\n").strip()  # browsers send a text area's lines CRLF
        if not raw:
            continue
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        if field.control == "list":
            params[field.name] = lines
        elif field.control == "mapping":
            pairs = [line.partition("=") for line in lines]
            params[field.name] = {key.strip(): value.strip() for key, _, value in pairs}
        else:
            params[field.name] = raw
    return params


@router.get("/start", include_in_schema=False)
def start_form(request: Request, kind: str | None = None) -> Response:
    """Choose a kind; its form."""
    if kind is not None and kind not in KINDS:
        raise BadInput(f"unknown process kind {kind!r}; known kinds: {', '.join(KINDS)}")
    return _render(request, kind, {}, {})


@router.post("/start", include_in_schema=False)
async def start_submit(request: Request) -> Response:
    """Start the process the form describes; on a refusal, the form again with what was wrong."""
    if not _same_origin(request):
        return TEMPLATES.TemplateResponse(
            request, "error.html", {"status": 403, "message": "a process starts from this site's own form"}, 403
        )
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise BadInput(f"unknown process kind {kind!r}; known kinds: {', '.join(KINDS)}")
    params = params_of(form_fields(kind), form)
    try:
        view = await services(request).processes.start(kind, params, actor="dashboard")
    except ParamsError as err:
        errors = {str(e["loc"][1]) if len(e["loc"]) > 1 else "": e["msg"] for e in err.errors}
        return _render(request, kind, form, errors, status=422)
    except Conflict as err:
        return _render(request, kind, form, {"": str(err)}, status=409)
    return RedirectResponse(f"/processes/{view.id}", status_code=303)


def _render(
    request: Request, kind: str | None, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    fields = form_fields(kind) if kind else []
    unplaced = {name: msg for name, msg in errors.items() if name not in {f.name for f in fields}}
    context = {"kinds": list(KINDS), "kind": kind, "fields": fields, "values": values, "errors": errors}
    return TEMPLATES.TemplateResponse(request, "start.html", context | {"unplaced": unplaced}, status_code=status)


def _same_origin(request: Request) -> bool:
    """Whether a form post comes from this site (browsers send Origin with every POST; a script may not)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    own = {f"{request.url.scheme}://{request.url.netloc}", services(request).public_url.rstrip("/")}
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" in own
