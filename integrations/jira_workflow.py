"""The way through a Jira project's workflow to a status: which transition to take next, and when to stop.

Pure: it reads the transitions Jira lists for an issue and chooses; the
adapter (`integrations.jira.JiraTracker`) makes the moves. Real projects
rarely go straight from To Do to Done (To Do → In Progress → Done, or a
review on the way), so a close walks.
"""

from __future__ import annotations

import re
from typing import Any

from domain.errors import Refused

MAX_MOVES = 10
"""Transitions one move may take on its way; real workflows reach Done in two or three."""

WONT_DO = ("Won't Do", "Won't Fix", "Declined", "Cancelled", "Canceled")
"""Names of the resolution that records dropped work, in order of preference (matched loosely: `plain`)."""

_RANK = {"new": 0, "indeterminate": 1, "done": 2}


class Walk:
    """An issue's way to a status through its project's workflow, one transition at a time (one attempt's worth).

    Each step takes, in order of preference: a transition to the status asked
    for; one named like it (``Start Progress``), or for dropped work one to a
    won't-do status (``Won't Do``, ``Cancelled``); one forward in status
    category (new → indeterminate → done), the shortest step first, so a
    closing status of another name (``Closed``, ``Resolved``) is reached only
    when none named right lies on the way, and a won't-do one last for work
    done; one to another status of its category (``In Progress`` → ``In
    Review``), unseen ones first. Never backwards, never the same transition
    twice, at most `MAX_MOVES`. Any done status is the end: signoff does not
    reopen, and a team's own closing status (``Won't Do``, ``Closed``) stands.
    """

    def __init__(self, key: str, target: str, status: dict[str, Any], resolution: str) -> None:
        self.key, self.target, self.wont_do = key, target, resolution == "wont_do"
        self.status = status
        self.path = [str(status.get("name"))]
        self.taken: set[tuple[str, str]] = set()

    @property
    def arrived(self) -> bool:
        return _name(self.status) == self.target.casefold() or _category(self.status) == "done"

    def is_last(self, transition: dict[str, Any]) -> bool:
        """Whether `transition` ends the walk (the status asked for, a transition of that name, or done)."""
        to = transition.get("to") or {}
        return self.target.casefold() in (_name(to), _name(transition)) or _category(to) == "done"

    def choose(self, transitions: list[dict[str, Any]]) -> dict[str, Any]:
        """The next transition toward the target, or `Refused` naming where the issue is stuck."""
        if len(self.path) > MAX_MOVES:
            raise self._stuck(transitions, f" within {MAX_MOVES} moves")
        here, seen, wanted = _rank(self.status), {name.casefold() for name in self.path}, self.target.casefold()
        options: list[tuple[tuple[int, int, bool, int], dict[str, Any]]] = []
        for index, transition in enumerate(transitions):
            to = transition.get("to") or {}
            if transition.get("isAvailable") is False or (_name(self.status), str(transition["id"])) in self.taken:
                continue
            if wanted in (_name(to), _name(transition)):
                kind = 0 if _name(to) == wanted else 1
            elif _rank(to) != here:
                kind = 2 if _rank(to) > here else -1
            else:
                kind = 4 if _name(to) in seen else 3
            wont_do_status = _category(to) == "done" and plain(_name(to)) in _WONT_DO_PLAIN
            if kind == 2 and wont_do_status and self.wont_do:
                kind = 1  # dropped work goes straight to the team's own won't-do status
            if kind >= 0:  # work done goes to a won't-do status only when nothing else leads on
                options.append(((kind, _rank(to), wont_do_status and not self.wont_do, index), transition))
        if not options:
            raise self._stuck(transitions, "")
        return min(options, key=lambda option: option[0])[1]

    def moved(self, transition: dict[str, Any]) -> None:
        """The issue took `transition` and is now in its target status."""
        self.taken.add((_name(self.status), str(transition["id"])))
        self.status = transition.get("to") or {}
        self.path.append(str(self.status.get("name")))

    def _stuck(self, transitions: list[dict[str, Any]], within: str) -> Refused:
        available = ", ".join(f"{t.get('name')} (→ {(t.get('to') or {}).get('name')})" for t in transitions) or "none"
        way = f" (signoff moved it {' → '.join(self.path)} on the way)" if len(self.path) > 1 else ""
        current = self.status.get("name")
        return Refused(
            f"{self.key} cannot move from '{current}' to '{self.target}'{within}{way}; its transitions: {available}"
        )


def _name(status_or_transition: dict[str, Any]) -> str:
    return str(status_or_transition.get("name", "")).casefold()


def _category(status: dict[str, Any]) -> str:
    return str((status.get("statusCategory") or {}).get("key", ""))


def _rank(status: dict[str, Any]) -> int:
    """How far along a status is: new 0, indeterminate 1, done 2 (no category counts as under way)."""
    return _RANK.get(_category(status), 1)


def plain(name: str) -> str:
    """A name as matched loosely: case-folded, without apostrophes (straight or curly), spaces collapsed."""
    return " ".join(re.sub("['\u2018\u2019`]", "", name.casefold()).split())


_WONT_DO_PLAIN = {plain(name) for name in WONT_DO}
