"""Load and validate process templates from ``config/processes/*.yaml``.

A template is checked on load; an error names the file, the item and the
field, so a person can fix it without reading code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError

from domain.errors import BadInput
from domain.templates import LaunchTemplate

PROCESSES = Path(__file__).parent / "processes"


class TemplateError(BadInput):
    """A template that cannot be read or does not match the schema."""


def template_path(name: str, folders: Sequence[Path] = ()) -> Path:
    """The file of the template `name`: a YAML path as given, else the first
    ``name.yaml`` in `folders`, then among the bundled templates."""
    if name.endswith((".yaml", ".yml")):
        return Path(name)
    for folder in (*folders, PROCESSES):
        if (folder / f"{name}.yaml").exists():
            return folder / f"{name}.yaml"
    return PROCESSES / f"{name}.yaml"


def known_templates(folders: Sequence[Path] = ()) -> list[str]:
    """The names of every template in `folders` and the bundled ones."""
    return sorted({p.stem for folder in (*folders, PROCESSES) for p in folder.glob("*.yaml")})


def load_template(name: str, folders: Sequence[Path] = ()) -> LaunchTemplate:
    """Read and validate the template `name` (a name or a YAML path).

    Args:
        name: a template name, looked up in `folders` first, then among the
            bundled ones; or a path ending in ``.yaml``.
        folders: extra template folders (``SIGNOFF_TEMPLATES_DIR``).

    Raises:
        TemplateError: the file is missing, is not YAML, or breaks the schema.
    """
    path = template_path(name, folders)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise TemplateError(f"template {name!r} not found (known: {', '.join(known_templates(folders))})") from None
    except yaml.YAMLError as err:
        raise TemplateError(f"{path}: not valid YAML: {err}") from None
    try:
        return LaunchTemplate.model_validate(data)
    except ValidationError as err:
        raise TemplateError(_describe(path, data, err)) from None


def _describe(path: Path, data: object, err: ValidationError) -> str:
    lines = [f"{path}: {err.error_count()} problem(s)"]
    for problem in err.errors():
        lines.append(f"  {_where(data, problem['loc'])}: {problem['msg']}")
    return "\n".join(lines)


def _where(data: object, loc: tuple[int | str, ...]) -> str:
    """`items[2] (support-training).due_offset_days` from a pydantic location."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node):
                node = node[step]
                if isinstance(node, dict) and "key" in node:
                    label += f" ({node['key']})"
            parts.append(label)
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"
