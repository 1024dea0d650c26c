"""A fake Jira: a real HTTP server on loopback that answers like REST API v2.

Shapes follow Atlassian's REST API v2 reference (Cloud) and the Data Center
one; what a test needs of Jira's behaviour is imitated, and no more:

- ``flavour="cloud"``: serverInfo says ``deploymentType: Cloud``; issues are
  searched through ``/rest/api/2/search/jql`` (token paging: ``nextPageToken``,
  ``isLast``) while the old ``/rest/api/2/search`` answers 410 Gone; users are
  found by ``?query=`` and named by ``accountId``; ``parent`` links an epic.
- ``flavour="server"`` (Data Center): ``deploymentType: Server``;
  ``/rest/api/2/search`` with ``startAt``/``total`` paging; users are found by
  ``?username=`` and named by ``name``; epics are linked through the "Epic
  Link" custom field and need an "Epic Name".

Each project runs one of `WORKFLOWS` (``workflows={"OPS": "three-step"}``;
``simple`` by default): the transitions offered depend on the issue's status,
each status has its ``statusCategory``, and a transition not offered from
there is refused. With ``resolution_screen=True`` the transitions into a done
status have a screen with the Resolution field (shown with
``expand=transitions.fields``); a field set on a transition without it on its
screen is refused, as Jira does. ``GET /resolution`` lists `resolutions`;
entering a done status without one sets the first (a post function's
default), leaving it clears it.

Every request must carry the basic-auth credentials given to the fake (else
401). What arrives is checked for the shape Jira expects (a wrong shape is a
400 with Jira's ``errorMessages``/``errors``) and kept in `FakeJira.received`.
`FakeJira.fail` makes the next N matching requests fail with a status, and
`FakeJira.drop_after` lets them do their work and then closes the connection
without a word, as a proxy or a crash can. JQL: only ``labels = "x"`` and
``key in (A-1, …)`` are understood, each with an optional ``ORDER BY``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

API = "/rest/api/2"
CATEGORIES = {
    "To Do": (2, "new", "blue-gray"),
    "In Progress": (4, "indeterminate", "yellow"),
    "In Review": (4, "indeterminate", "yellow"),
    "Blocked": (4, "indeterminate", "yellow"),
    "Done": (3, "done", "green"),
    "Won't Do": (3, "done", "green"),
}
STATUS_IDS = {"To Do": "10000", "In Progress": "3", "In Review": "10002", "Blocked": "10003", "Done": "10001"}
Workflow = dict[str, list[tuple[str, str, str]]]
"""Status → the transitions offered from it: (id, name, target status)."""
WORKFLOWS: dict[str, Workflow] = {
    # Jira Cloud's simplified workflow: straight to Done from anywhere.
    "simple": {
        "To Do": [("21", "Start Progress", "In Progress"), ("31", "Done", "Done")],
        "In Progress": [("11", "Stop Progress", "To Do"), ("31", "Done", "Done")],
        "Done": [("41", "Reopen", "To Do")],
    },
    # A team's own workflow: Done only from In Progress.
    "three-step": {
        "To Do": [("11", "Start Progress", "In Progress")],
        "In Progress": [("21", "Stop Progress", "To Do"), ("31", "Done", "Done")],
        "Done": [("41", "Reopen", "To Do")],
    },
    # Done only after review; dropped work has a status of its own.
    "review": {
        "To Do": [("11", "Start Progress", "In Progress"), ("51", "Won't Do", "Won't Do")],
        "In Progress": [("21", "Stop Progress", "To Do"), ("61", "Review", "In Review"), ("71", "Block", "Blocked")],
        "In Review": [("81", "Back to work", "In Progress"), ("31", "Approve", "Done")],
        "Blocked": [("91", "Unblock", "In Progress")],
        "Done": [("41", "Reopen", "To Do")],
        "Won't Do": [("41", "Reopen", "To Do")],
    },
    # Done is not reachable by this user at all (a condition on the transition hides it).
    "gated": {
        "To Do": [("11", "Start Progress", "In Progress")],
        "In Progress": [("21", "Stop Progress", "To Do"), ("71", "Block", "Blocked")],
        "Blocked": [("91", "Unblock", "In Progress")],
        "Done": [("41", "Reopen", "To Do")],
    },
}
ISSUE_TYPES = {"Epic", "Task", "Story", "Bug", "Sub-task"}
EPIC_LINK, EPIC_NAME = "customfield_10014", "customfield_10011"
_JQL_LABEL = re.compile(r'labels\s*=\s*"([^"]+)"(?:\s+ORDER BY .*)?', re.IGNORECASE)
_JQL_KEYS = re.compile(r"key\s+in\s*\(([^)]*)\)(?:\s+ORDER BY .*)?", re.IGNORECASE)


@dataclass
class Received:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class Person:
    """A Jira user: Cloud names them by account id, Data Center by name."""

    email: str
    display_name: str
    name: str
    account_id: str
    assignable: bool = True


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    times: int
    status: int | None  # None: do the work, then drop the connection unanswered
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _bad(*messages: str, **errors: str) -> _Reply:
    return _Reply(400, {"errorMessages": list(messages), "errors": errors})


class FakeJira:
    """A Jira REST API v2 on ``127.0.0.1:<free port>``; use it as a context manager."""

    def __init__(
        self,
        flavour: Literal["cloud", "server"] = "cloud",
        *,
        user: str = "signoff-bot@acme.test",
        token: str = "fake-token-0123456789",
        projects: tuple[str, ...] = ("LAUNCH",),
        epic_link: bool = True,
        page_size: int = 2,
        workflows: dict[str, str] | None = None,
        resolutions: tuple[str, ...] = ("Done", "Won't Do", "Duplicate", "Cannot Reproduce"),
        resolution_screen: bool = False,
    ) -> None:
        self.flavour = flavour
        self.user, self.token = user, token
        self.workflows = {project: WORKFLOWS[name] for project, name in (workflows or {}).items()}
        self.projects = set(projects) | set(self.workflows)
        self.resolutions = [
            {"self": f"{API}/resolution/{10000 + n}", "id": str(10000 + n), "name": name, "description": ""}
            for n, name in enumerate(resolutions)
        ]
        self.resolution_screen = resolution_screen
        self.epic_link = epic_link
        self.page_size = page_size
        self.people: list[Person] = [Person(user, "signoff", "signoff-bot", "557058:bot")]
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.received: list[Received] = []
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # ---- lifecycle and test helpers --------------------------------------

    @property
    def url(self) -> str:
        """The base URL, as SIGNOFF_JIRA_URL would be."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def cloud(self) -> bool:
        return self.flavour == "cloud"

    def __enter__(self) -> FakeJira:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_person(self, email: str, display_name: str, *, assignable: bool = True) -> Person:
        """A user of this Jira (found by email; assignable unless told)."""
        name = email.split("@")[0]
        person = Person(email, display_name, name, f"557058:{len(self.people):08x}", assignable)
        self.people.append(person)
        return person

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests matching `method` and `path` (a regex) with `status`."""
        self._faults.append(_Fault(method, re.compile(path), times, status, body, headers or {}))

    def drop_after(self, method: str, path: str, *, times: int = 1) -> None:
        """Do the work of the next `times` matching requests, then close the connection unanswered."""
        self._faults.append(_Fault(method, re.compile(path), times, None))

    def seen(self, method: str, path: str) -> list[Received]:
        """The requests received with `method` whose path is exactly `path`."""
        return [r for r in self.received if r.method == method and r.path == path]

    # ---- dispatch ---------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]]:
        """Answer one request; a `_Reply` carries an error status."""
        routes: list[tuple[str, str, Any]] = [
            ("GET", "/serverInfo", self._server_info),
            ("GET", "/myself", self._myself),
            ("GET", "/user/search", self._user_search),
            ("GET", "/field", self._fields),
            ("GET", "/resolution", self._resolutions),
            ("GET|POST", "/search/jql", self._search_jql),
            ("GET|POST", "/search", self._search),
            ("POST", "/issue", self._create),
            ("GET", r"/issue/([^/]+)", self._issue),
            ("PUT", r"/issue/([^/]+)", self._edit),
            ("GET|POST", r"/issue/([^/]+)/transitions", self._transitions),
            ("GET|POST", r"/issue/([^/]+)/comment", self._comment),
        ]
        for methods, pattern, handler in routes:
            match = re.fullmatch(re.escape(API) + pattern, path)
            if match and method in methods.split("|"):
                with self._lock:
                    return handler(method, query, body, *match.groups())
        raise _Reply(404, {"errorMessages": [f"null for uri: {self.url}{path}"]})

    def take_fault(self, method: str, path: str) -> _Fault | None:
        """The fault that the request `method path` triggers, counted down."""
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.path.fullmatch(path):
                    fault.times -= 1
                    return fault
        return None

    def authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return header == f"Basic {expected}"

    # ---- resources ----------------------------------------------------------

    def _server_info(self, *_: Any) -> tuple[int, Any, dict[str, str]]:
        version = ("1001.0.0-SNAPSHOT", [1001, 0, 0]) if self.cloud else ("9.12.4", [9, 12, 4])
        return (
            200,
            {
                "baseUrl": self.url,
                "version": version[0],
                "versionNumbers": version[1],
                "deploymentType": "Cloud" if self.cloud else "Server",
                "buildNumber": 100245 if self.cloud else 9120004,
                "buildDate": "2025-01-01T00:00:00.000+0000",
                "serverTime": "2025-06-01T12:00:00.000+0000",
                "scmInfo": "0" * 40,
                "serverTitle": "Acme Jira",
            },
            {},
        )

    def _user_json(self, person: Person) -> dict[str, Any]:
        if self.cloud:
            return {
                "self": f"{self.url}{API}/user?accountId={person.account_id}",
                "accountId": person.account_id,
                "accountType": "atlassian",
                "emailAddress": person.email,
                "displayName": person.display_name,
                "active": True,
            }
        return {
            "self": f"{self.url}{API}/user?username={person.name}",
            "key": f"JIRAUSER{10000 + self.people.index(person)}",
            "name": person.name,
            "emailAddress": person.email,
            "displayName": person.display_name,
            "active": True,
        }

    def _myself(self, *_: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, self._user_json(self.people[0]), {}

    def _user_search(self, _method: str, query: dict[str, list[str]], *_: Any) -> tuple[int, Any, dict[str, str]]:
        if self.cloud and "username" in query:
            raise _bad("The query parameter 'username' is not supported in GDPR strict mode.")
        term = (query.get("query") if self.cloud else query.get("username")) or [""]
        if not term[0]:
            raise _bad(
                "The query parameter 'query' is required."
                if self.cloud
                else "The username query parameter was not provided"
            )
        text = term[0].casefold()
        hits = [
            p
            for p in self.people
            if any(value.casefold().startswith(text) for value in (p.email, p.display_name, p.name))
        ]
        return 200, [self._user_json(p) for p in hits], {}

    def _fields(self, *_: Any) -> tuple[int, Any, dict[str, str]]:
        system = ["summary", "description", "labels", "duedate", "assignee", "status", "issuetype", "project", "parent"]
        fields = [
            {"id": f, "key": f, "name": f.capitalize(), "custom": False, "clauseNames": [f], "schema": {"type": "any"}}
            for f in system
        ]
        if self.epic_link:
            for fid, name, kind in (
                (EPIC_LINK, "Epic Link", "gh-epic-link"),
                (EPIC_NAME, "Epic Name", "gh-epic-label"),
            ):
                number = fid.split("_")[1]
                fields.append(
                    {
                        "id": fid,
                        "key": fid,
                        "name": name,
                        "custom": True,
                        "clauseNames": [f"cf[{number}]", name],
                        "schema": {
                            "type": "any",
                            "custom": f"com.pyxis.greenhopper.jira:{kind}",
                            "customId": int(number),
                        },
                    }
                )
        return 200, fields, {}

    def _resolutions(self, *_: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, [r | {"self": f"{self.url}{r['self']}"} for r in self.resolutions], {}

    # ---- search -------------------------------------------------------------

    def _matching(self, jql: str, strict: bool) -> list[dict[str, Any]]:
        if match := _JQL_LABEL.fullmatch(jql.strip()):
            return [i for i in self.issues.values() if match.group(1) in i["fields"]["labels"]]
        if match := _JQL_KEYS.fullmatch(jql.strip()):
            keys = [k.strip().strip('"') for k in match.group(1).split(",") if k.strip()]
            missing = [k for k in keys if k not in self.issues]
            if strict and missing:
                raise _bad(*(f"An issue with key '{k}' does not exist for field 'key'." for k in missing))
            return [self.issues[k] for k in keys if k in self.issues]
        raise _bad(f"Error in the JQL Query: the fake does not understand '{jql}'.")

    def _search_jql(self, method: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]]:
        if not self.cloud:
            raise _Reply(404, {"errorMessages": [f"null for uri: {self.url}{API}/search/jql"]})
        params = body if method == "POST" else {k: v[0] if k != "fields" else v for k, v in query.items()}
        if "startAt" in params:
            raise _bad("Unrecognized parameter 'startAt': use nextPageToken.")
        hits = self._matching(str(params.get("jql", "")), strict=False)
        start = int(params.get("nextPageToken") or 0)
        size = min(int(params.get("maxResults") or 50), self.page_size)
        page = hits[start : start + size]
        answer: dict[str, Any] = {"issues": [self._view(i, params.get("fields")) for i in page]}
        if start + size < len(hits):
            answer["nextPageToken"] = str(start + size)
        answer["isLast"] = start + size >= len(hits)
        return 200, answer, {}

    def _search(self, method: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.cloud:
            raise _Reply(
                410,
                {
                    "errorMessages": [
                        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                        "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
                    ]
                },
            )
        params = body if method == "POST" else {k: v[0] if k != "fields" else v for k, v in query.items()}
        strict = str(params.get("validateQuery", "true")).lower() not in ("false", "warn", "none")
        hits = self._matching(str(params.get("jql", "")), strict)
        start = int(params.get("startAt") or 0)
        size = min(int(params.get("maxResults") or 50), self.page_size)
        issues = [self._view(i, params.get("fields")) for i in hits[start : start + size]]
        return (
            200,
            {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(hits), "issues": issues},
            {},
        )

    def _view(self, issue: dict[str, Any], fields: Any) -> dict[str, Any]:
        wanted = [f for part in (fields or ["*all"]) for f in str(part).split(",") if f]
        if "*all" in wanted:
            return issue
        return {**issue, "fields": {k: v for k, v in issue["fields"].items() if k in wanted}}

    # ---- issues -------------------------------------------------------------

    def _create(self, _method: str, _query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            raise _bad('Can not deserialize: expected {"fields": {...}}.')
        fields = self._checked_fields(dict(body["fields"]))
        number = len(self.issues) + 1
        key, issue_id = f"{fields['project']['key']}-{number}", str(10000 + number)
        fields["status"] = _status_json("To Do", self.url)
        fields["resolution"] = None
        self.issues[key] = {"id": issue_id, "key": key, "self": f"{self.url}{API}/issue/{issue_id}", "fields": fields}
        self.comments[key] = []
        return 201, {"id": issue_id, "key": key, "self": f"{self.url}{API}/issue/{issue_id}"}, {}

    def _checked_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        project, issuetype = fields.pop("project", None), fields.pop("issuetype", None)
        if not isinstance(project, dict) or project.get("key") not in self.projects:
            raise _bad(project="valid project is required")
        if not isinstance(issuetype, dict) or issuetype.get("name") not in ISSUE_TYPES:
            raise _bad(issuetype="valid issue type is required")
        out: dict[str, Any] = {"project": {"key": project["key"]}, "issuetype": {"name": issuetype["name"]}}
        if not isinstance(fields.get("summary"), str) or not fields["summary"].strip():
            raise _bad(summary="You must specify a summary of the issue.")
        if not isinstance(fields.get("description", ""), str):
            raise _bad(description="Operation value must be a string")
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or any(not isinstance(x, str) or " " in x for x in labels):
            raise _bad(labels="Labels must be strings without spaces.")
        if "duedate" in fields and not _is_date(fields["duedate"]):
            raise _bad(duedate=f"Error parsing date string: {fields['duedate']}")
        for name in ("summary", "description", "labels", "duedate"):
            if name in fields:
                out[name] = fields.pop(name)
        out["assignee"] = self._checked_assignee(fields.pop("assignee", None))
        out.update(self._checked_links(fields, issuetype["name"]))
        return out

    def _checked_assignee(self, assignee: Any) -> dict[str, Any] | None:
        if assignee is None:
            return None
        id_field = "accountId" if self.cloud else "name"
        if not isinstance(assignee, dict) or set(assignee) != {id_field}:
            raise _bad(assignee=f"Specify the assignee by {id_field}.")
        person = next((p for p in self.people if (p.account_id if self.cloud else p.name) == assignee[id_field]), None)
        if person is None:
            raise _bad(assignee=f"User '{assignee[id_field]}' does not exist.")
        if not person.assignable:
            raise _bad(assignee=f"User '{person.display_name}' cannot be assigned issues.")
        return self._user_json(person)

    def _checked_links(self, fields: dict[str, Any], issuetype: str) -> dict[str, Any]:
        """Parent (Cloud), Epic Link and Epic Name (Data Center); anything else is refused."""
        out: dict[str, Any] = {}
        if "parent" in fields:
            parent = fields.pop("parent")
            if not self.cloud and issuetype != "Sub-task":
                raise _bad(parent="Only sub-tasks have a parent here; link epics with the Epic Link field.")
            if not isinstance(parent, dict) or parent.get("key") not in self.issues:
                raise _bad(parent="The parent issue does not exist.")
            out["parent"] = {"key": parent["key"], "id": self.issues[parent["key"]]["id"]}
        if not self.cloud and self.epic_link:
            if EPIC_LINK in fields:
                epic = fields.pop(EPIC_LINK)
                if not isinstance(epic, str) or self.issues.get(epic, {}).get("fields", {}).get("issuetype") != {
                    "name": "Epic"
                }:
                    raise _bad(**{EPIC_LINK: f"The issue '{epic}' is not an epic."})
                out[EPIC_LINK] = epic
            if issuetype == "Epic":
                if not isinstance(fields.get(EPIC_NAME), str) or not fields[EPIC_NAME]:
                    raise _bad(**{EPIC_NAME: "Epic Name is required."})
                out[EPIC_NAME] = fields.pop(EPIC_NAME)
        if fields:
            name = next(iter(fields))
            raise _bad(**{name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."})
        return out

    def _known(self, key: str) -> dict[str, Any]:
        """The issue `key` (or whose id it is: an issue's ``self`` link names its id)."""
        found = self.issues.get(key) or next((i for i in self.issues.values() if i["id"] == key), None)
        if found is None:
            raise _Reply(
                404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
            )
        return found

    def _edit(self, _method: str, _query: Any, body: Any, key: str) -> tuple[int, Any, dict[str, str]]:
        """Edit an issue's fields (only the due date and the assignee, on this screen)."""
        issue = self._known(key)
        if not isinstance(body, dict) or not isinstance(body.get("fields", {}), dict):
            raise _bad('Can not deserialize: expected {"fields": {...}}.')
        fields = dict(body.get("fields") or {})
        if "duedate" in fields and not _is_date(fields["duedate"]):
            raise _bad(duedate=f"Error parsing date string: {fields['duedate']}")
        changed: dict[str, Any] = {"duedate": fields.pop("duedate")} if "duedate" in fields else {}
        if "assignee" in fields:
            changed["assignee"] = self._checked_assignee(fields.pop("assignee"))
        if fields:
            name = next(iter(fields))
            raise _bad(**{name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."})
        issue["fields"].update(changed)
        return 204, None, {}

    def _issue(
        self, _method: str, query: dict[str, list[str]], _body: Any, key: str
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, self._view(self._known(key), query.get("fields")), {}

    def _transitions(
        self, method: str, query: dict[str, list[str]], body: Any, key: str
    ) -> tuple[int, Any, dict[str, str]]:
        issue = self._known(key)
        available = self._offered(issue, "transitions.fields" in ",".join(query.get("expand", [])))
        if method == "GET":
            return 200, {"expand": "transitions", "transitions": available}, {}
        chosen = body.get("transition") if isinstance(body, dict) else None
        if not isinstance(chosen, dict) or "id" not in chosen:
            raise _bad("Missing 'transition' identifier")
        target = next((t for t in available if t["id"] == str(chosen["id"])), None)
        if target is None:
            raise _bad(f"Transition id '{chosen['id']}' is not valid for this issue.")
        fields = dict(body.get("fields") or {})
        resolution = fields.pop("resolution", None) if target["hasScreen"] else None
        if fields:
            name = next(iter(fields))
            raise _bad(**{name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."})
        issue["fields"]["status"] = target["to"]
        issue["fields"]["resolution"] = self._resolution(resolution) if _done(target["to"]) else None
        return 204, None, {}

    def _offered(self, issue: dict[str, Any], with_fields: bool) -> list[dict[str, Any]]:
        """The transitions from the issue's status in its project's workflow, as Jira lists them."""
        workflow = self.workflows.get(issue["fields"]["project"]["key"], WORKFLOWS["simple"])
        offered = []
        for tid, name, to in workflow[issue["fields"]["status"]["name"]]:
            status = _status_json(to, self.url)
            screen = self.resolution_screen and _done(status)
            transition = {
                "id": tid, "name": name, "to": status, "hasScreen": screen, "isGlobal": False, "isInitial": False,
                "isAvailable": True, "isConditional": False, "isLooped": False,
            }  # fmt: skip
            if with_fields:
                transition["fields"] = {"resolution": self._resolution_field()} if screen else {}
            offered.append(transition)
        return offered

    def _resolution_field(self) -> dict[str, Any]:
        return {
            "required": True, "schema": {"type": "resolution", "system": "resolution"}, "name": "Resolution",
            "key": "resolution", "hasDefaultValue": False, "operations": ["set"],
            "allowedValues": [r | {"self": f"{self.url}{r['self']}"} for r in self.resolutions],
        }  # fmt: skip

    def _resolution(self, given: Any) -> dict[str, Any] | None:
        """The resolution a transition into a done status sets: the one given, else the first (a default)."""
        if given is None:
            return self.resolutions[0] if self.resolutions else None
        found = next(
            (
                r
                for r in self.resolutions
                if isinstance(given, dict) and given.get("id", given.get("name")) in r.values()
            ),
            None,
        )
        if found is None:
            raise _bad(resolution=f"Could not find a resolution matching {given!r}.")
        return found

    def _comment(self, method: str, _query: Any, body: Any, key: str) -> tuple[int, Any, dict[str, str]]:
        self._known(key)
        comments = self.comments[key]
        if method == "GET":
            return 200, {"startAt": 0, "maxResults": 5000, "total": len(comments), "comments": comments}, {}
        if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"].strip():
            raise _bad(comment="Comment body can not be empty!")
        comment_id = str(10000 + sum(len(c) for c in self.comments.values()))
        comment = {
            "self": f"{self.url}{API}/issue/{key}/comment/{comment_id}",
            "id": comment_id,
            "author": self._user_json(self.people[0]),
            "body": body["body"],
            "created": "2025-06-01T12:00:00.000+0000",
            "updated": "2025-06-01T12:00:00.000+0000",
        }
        comments.append(comment)
        return 201, comment, {}


def _is_date(value: Any) -> bool:
    """Whether `value` is a date the way Jira's REST API takes one: ``YYYY-MM-DD``."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _done(status: dict[str, Any]) -> bool:
    return bool(status["statusCategory"]["key"] == "done")


def _status_json(name: str, url: str) -> dict[str, Any]:
    category_id, category_key, colour = CATEGORIES[name]
    status_id = STATUS_IDS.get(name, "10004")
    return {
        "self": f"{url}{API}/status/{status_id}",
        "description": "",
        "iconUrl": f"{url}/images/icons/statuses/generic.png",
        "name": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{url}{API}/statuscategory/{category_id}",
            "id": category_id,
            "key": category_key,
            "colorName": colour,
            "name": name,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        fake: FakeJira = self.server.fake  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        fake.received.append(Received(method, parts.path, parse_qs(parts.query), body, dict(self.headers.items())))
        fault = fake.take_fault(method, parts.path)
        try:
            if fault is not None and fault.status is not None:
                raise _Reply(fault.status, fault.body, fault.headers)
            if not fake.authorized(self.headers.get("Authorization")):
                raise _Reply(
                    401,
                    "Client must be authenticated to access this resource.",
                    {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
                )
            if method in ("POST", "PUT") and "application/json" not in (self.headers.get("Content-Type") or ""):
                raise _Reply(415, {"errorMessages": ["Unsupported Media Type"]})
            if method in ("POST", "PUT") and (raw and not isinstance(body, (dict, list))):
                raise _bad("Unexpected character: the body is not JSON.")
            status, answer, headers = fake.handle(method, parts.path, parse_qs(parts.query), body)
        except _Reply as reply:
            status, answer, headers = reply.status, reply.body, reply.headers
        if fault is not None and fault.status is None:
            self.close_connection = True  # the work is done; the answer never leaves
            return
        self._send(status, answer, headers)

    def _send(self, status: int, answer: Any, headers: dict[str, str]) -> None:
        if answer is None:
            payload, kind = b"", "application/json;charset=UTF-8"
        elif isinstance(answer, str):
            payload, kind = answer.encode(), "text/plain;charset=UTF-8"
        else:
            payload, kind = json.dumps(answer).encode(), "application/json;charset=UTF-8"
        self.send_response(status)
        for name, value in {"Content-Type": kind, **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
