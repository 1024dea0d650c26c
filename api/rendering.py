"""The Jinja2 templates of the pages (`api/templates/`), with the filters they use.

States and counts go through `domain.words` (``{{ gate.status|label }}``,
``{{ n|counted("item") }}``), the same words as the emails, chat and CLI.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from domain.rules import local_time
from domain.words import count, gate_summary, label, plural, received
from integrations.messages import markdown_html
from integrations.mrkdwn import mrkdwn_html


def local(moment: datetime | None, zone: str = "", seconds: bool = False) -> str:
    """`moment` in the time `zone` (a process's; empty: UTC), with the zone named (`domain.rules.local_time`)."""
    return "" if moment is None else local_time(moment, zone, seconds)


def _here(request: Request) -> dict[str, Any]:
    """``here``: the deployment's time zone (``SIGNOFF_TIME_ZONE``), for pages that mix processes (the list,
    "my work", the calendar, the outbox); a process's own pages use the process's zone."""
    services = getattr(request.app.state, "services", None)
    zone = getattr(getattr(services, "processes", None), "time_zone", "")
    return {"here": zone if isinstance(zone, str) else ""}


TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates", context_processors=[_here])
TEMPLATES.env.filters |= {
    "markdown": markdown_html,
    "mrkdwn": mrkdwn_html,
    "label": label,
    "counted": count,
    "plural": plural,
    "received": received,
    "gate_summary": gate_summary,
    "local": local,
}
