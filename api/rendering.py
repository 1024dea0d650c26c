"""The Jinja2 templates of the pages (`api/templates/`), with the filters they use."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from integrations.messages import markdown_html

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["markdown"] = markdown_html
