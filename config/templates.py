"""Load and validate process templates from ``config/processes/*.yaml``.

A template is checked on load; an error names the file, the item and the
field, so a person can fix it without reading code.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError

from domain.errors import BadInput
from domain.kinds import KINDS, ProcessTemplate

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


def load_template(name: str, kind: str | None = None, folders: Sequence[Path] = ()) -> ProcessTemplate:
    """Read and validate the template `name` (a name or a YAML path) against the schema of its ``kind:``.

    Args:
        name: a template name, looked up in `folders` first, then among the
            bundled ones; or a path ending in ``.yaml``.
        kind: the kind it must be a template of, if any.
        folders: extra template folders (``SIGNOFF_TEMPLATES_DIR``).

    Raises:
        TemplateError: the file is missing, is not YAML, breaks the schema, or is of another kind.
    """
    path = template_path(name, folders)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise TemplateError(f"template {name!r} not found (known: {', '.join(known_templates(folders))})") from None
    except yaml.YAMLError as err:
        raise TemplateError(f"{path}: not valid YAML: {err}") from None
    declared = data.get("kind", "launch") if isinstance(data, dict) else "launch"
    if declared not in KINDS:
        raise TemplateError(f"{path}: kind {declared!r} is not one of {', '.join(KINDS)}")
    if kind and declared != kind:
        raise TemplateError(f"{path}: a {declared} template, not a {kind} one")
    try:
        return KINDS[declared].template.model_validate(data)
    except ValidationError as err:
        raise TemplateError(_describe(path, data, err)) from None


class Templates:
    """`load_template` that reads and validates each file once per change of it.

    A start asks for its template (and its children's) every time; re-parsing
    the YAML and re-validating it each time cost a few milliseconds of CPU per
    start. A file is read again when its modification time or size changes, so
    an edited template takes effect at the next start, as before. Callers get a
    copy, so nothing they do reaches the cached one. Safe from several threads.
    """

    def __init__(self, folders: Sequence[Path] = ()) -> None:
        self.folders = tuple(folders)
        self._cache: dict[tuple[Path, str | None], tuple[tuple[int, int], ProcessTemplate]] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str, kind: str | None = None) -> ProcessTemplate:
        """The template `name` (see `load_template`), from the cache while its file is unchanged.

        Raises:
            TemplateError: as `load_template`.
        """
        path = template_path(name, self.folders)
        try:
            stat = path.stat()
        except OSError:
            return load_template(name, kind, self.folders)  # says what is missing
        version, key = (stat.st_mtime_ns, stat.st_size), (path, kind)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached[0] != version:
            cached = (version, load_template(name, kind, self.folders))
            with self._lock:
                self._cache[key] = cached
        return cached[1].model_copy(deep=True)


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
