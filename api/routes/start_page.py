"""`/start`: start a process from the dashboard, with a form made from its kind's parameters.

The form is generated from the kind's pydantic parameter model (its JSON
schema), so a new parameter appears here without a template change. What is
typed goes to the same `Processes.start` as ``POST /api/processes``; a refused
field is shown again next to its input. Plain HTML, no JavaScript: choosing a
kind reloads the page with that kind's fields.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic_core import PydanticUndefined

from api.deps import CurrentUser, ServicesDep
from api.rendering import TEMPLATES
from api.routes.plans import plan_page
from api.starts import ParamsError
from config.templates import TemplateError
from domain.access import owned_by_caller
from domain.errors import BadInput, Conflict, Forbidden, UnknownKind
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
    model = KINDS[kind].params
    schema = model.model_json_schema()
    required = set(schema.get("required", [])) - set(model.filled_in)
    fields = [
        _field(name, prop, name in required, _shown(model.model_fields[name].get_default(call_default_factory=True)))
        for name, prop in schema["properties"].items()
    ]
    fields = [replace(f, hint=f"if left empty: {model.filled_in[f.name]}") if f.name in model.filled_in else f
              for f in fields]  # fmt: skip
    return sorted(fields, key=lambda f: not f.required)


def _shown(default: Any) -> str:
    """A default as the form shows it: lists one per line, mappings as ``name=value`` lines."""
    if default is None or default is PydanticUndefined:
        return ""
    if isinstance(default, list):
        return "\n".join(map(str, default))
    if isinstance(default, dict):
        return "\n".join(f"{key}={value}" for key, value in default.items())
    return str(default)


def _field(name: str, prop: dict[str, Any], required: bool, default: str) -> Field:
    label = name.replace("_", " ").capitalize()
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    first = options[0]
    if len(options) == 1 and "enum" in first:
        return Field(name, label, "select", required, default, options=tuple(first["enum"]))
    if len(options) > 1:  # a policy: all, any or a number
        choices = [str(v) for o in options for v in o.get("enum", ["a number"])]
        return Field(name, label, "text", required, default, hint=f"{', '.join(choices[:-1])} or {choices[-1]}")
    if first.get("type") == "array":
        item = first.get("items", {})
        hint = "one per line, or separated by commas" + (" (email:role)" if "$ref" in item else "")
        return Field(name, label, "list", required, default, hint=hint)
    if first.get("type") == "object":
        return Field(name, label, "mapping", required, default, hint="one per line: name=email")
    control = {"date": "date", "email": "email", "uri": "url"}.get(first.get("format", ""), "text")
    hint = "with a zone: 2026-11-22T14:30Z" if first.get("format") == "date-time" else ""
    return Field(name, label, "textarea" if name in LONG_TEXT else control, required, default, hint=hint)


def params_of(fields: list[Field], form: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """What was typed, as parameters, and what cannot be read as one (by field).

    Lists are one per line or comma-separated, mappings ``name=value`` lines;
    blanks are left out, so the parameter's default applies.
    """
    params: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in fields:
        raw = form.get(field.name, "").replace("\r\n", "\n").strip()  # browsers send a text area's lines CRLF
        if not raw:
            continue
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        if field.control == "list":
            params[field.name] = [part.strip() for line in lines for part in line.split(",") if part.strip()]
        elif field.control == "mapping":
            mapping: dict[str, str] = {}
            for number, line in enumerate(lines, start=1):
                key, equals, value = (part.strip() for part in line.partition("="))
                if not equals or not key or not value:
                    errors.setdefault(field.name, []).append(f"line {number}: write it as name=email")
                elif key in mapping:
                    errors.setdefault(field.name, []).append(f"line {number}: {key} is named twice")
                else:
                    mapping[key] = value
            params[field.name] = mapping
        else:
            params[field.name] = raw
    return params, errors


@router.get("/start", include_in_schema=False)
def start_form(request: Request, kind: str | None = None) -> Response:
    """Choose a kind; its form."""
    if kind is not None and kind not in KINDS:
        raise UnknownKind(kind, list(KINDS))
    return _render(request, kind, {}, {})


@router.post("/start", include_in_schema=False)
async def start_submit(request: Request, svc: ServicesDep, caller: CurrentUser) -> Response:
    """Start the process the form describes; on a refusal, the form again with what was wrong."""
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise UnknownKind(kind, list(KINDS))
    params, errors = params_of(form_fields(kind), form)
    try:
        params = owned_by_caller(caller, params)
    except Forbidden as err:
        return _render(request, kind, form, {"owner": [str(err)]}, status=403)
    try:
        if errors:  # lines it could not read, and all the rest gets wrong, said at once; nothing starts
            await svc.processes.check(kind, params)
            return _render(request, kind, form, errors, status=422)
        if "preview" in form:  # the Preview button: the same checks, then the plan instead of a start
            return await plan_page(request, svc, kind, params, caller.actor)
        view = await svc.processes.start(kind, params, actor=caller.actor, stored=svc.store, channel=caller.channel)
    except ParamsError as err:
        for error in err.errors:
            where = [str(part) for part in error["loc"][1:]]
            field = where[0] if where else ""
            line = f"line {int(where[1]) + 1}: " if len(where) > 1 and where[1].isdigit() else ""
            errors.setdefault(field, []).append(line + error["msg"])
        return _render(request, kind, form, errors, status=422)
    except TemplateError as err:
        return _render(request, kind, form, {"template": [str(err)]}, status=422)
    except (BadInput, Conflict) as err:
        return _render(request, kind, form, {"": [str(err)]}, status=409 if isinstance(err, Conflict) else 422)
    return RedirectResponse(f"/processes/{view.id}", status_code=303)


def _render(
    request: Request, kind: str | None, values: dict[str, str], errors: dict[str, list[str]], status: int = 200
) -> Response:
    fields = form_fields(kind) if kind else []
    unplaced = {name: msgs for name, msgs in errors.items() if name not in {f.name for f in fields}}
    context = {"kinds": list(KINDS), "kind": kind, "fields": fields, "values": values, "errors": errors}
    return TEMPLATES.TemplateResponse(request, "start.html", context | {"unplaced": unplaced}, status_code=status)
