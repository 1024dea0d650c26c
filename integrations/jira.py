"""The Jira tracker: issues in Jira Cloud or Data Center, through the ``jira`` library.

It is the real twin of `integrations.outbox.OutboxTracker`, and like it every
call may be repeated: Jira has no idempotency key, so each issue carries a
marker label (``signoff-`` and 20 hex digits of the marker's SHA-256) that is
looked up before anything is created, and each comment ends with a tag
(``[signoff:…]``) looked up before it is added.

An issue is moved by walking its project's workflow (`integrations.jira_workflow.Walk`): one transition
at a time toward the status asked for, never backwards, so a Temporal retry
after a partial walk goes on from wherever the issue stands. Work dropped
(``resolution="wont_do"``) is closed with the instance's won't-do resolution
where the last transition's screen takes one, else with a comment saying so.

What it needs of Jira (REST API v2, HTTP basic auth):

- on the create screen of each project and issue type: Summary, Description,
  Labels, Due date, Assignee; on Cloud, Parent; on Data Center, Epic Link
  (and Epic Name for epics) when those fields exist;
- for its user, in each project: Browse Projects, Create Issues, Edit Issues,
  Transition Issues, Resolve Issues, Add Comments, Assign Issues; the
  assignees need Assignable User; to find people by email, the global Browse
  users and groups permission (without it the issue is created unassigned,
  with "Owner: <email>" in its description).

Errors come out as the domain's, `Refused` or `Unavailable`, with a sentence
a person can act on and never the token (`integrations.jira_errors`).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from jira import JIRA
from jira.exceptions import JIRAError

from domain.errors import IntegrationError, Refused, Unavailable
from domain.requests import IssueRef, IssueRequest, IssueUpdate, TransitionRequest
from integrations.jira_errors import TRANSIENT, field_errors, jira_error
from integrations.jira_workflow import WONT_DO, Walk, plain

SIGNOFF_LABEL = "signoff"
"""Every issue signoff creates carries this label, besides its marker label."""

SEARCH_LAG = 10.0
"""Seconds to wait before retrying a create whose outcome is unknown.

Jira's search index trails its writes (Cloud documents it for /search/jql), so
an immediate retry might not find the issue the lost answer had created.
"""

_ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")
_BATCH = 100


def marker_label(marker: str) -> str:
    """The label that names the issue of `marker` (Jira labels allow no spaces)."""
    return f"signoff-{hashlib.sha256(marker.encode()).hexdigest()[:20]}"


def comment_tag(marker: str) -> str:
    """The tag that ends the comment of `marker`, so it is added once."""
    return f"[signoff:{hashlib.sha256(marker.encode()).hexdigest()[:12]}]"


class JiraTracker:
    """Issues in Jira, created once per marker and moved by status name.

    Args:
        url: Jira's base URL (``https://acme.atlassian.net``).
        user: the account email (Cloud) or username (Data Center).
        token: its API token (Cloud) or password (Data Center).
        timeout: seconds to wait for Jira to connect and to answer.
    """

    def __init__(self, url: str, user: str, token: str, timeout: float = 20) -> None:
        self.url = url.rstrip("/")
        self.user = user
        self._token = token
        self._timeout = timeout
        self._jira: JIRA | None = None
        self._cloud = False
        self._field_ids: dict[str, str] | None = None
        self._resolutions: dict[str, str] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JiraTracker({self.url!r}, user={self.user!r})"

    # ---- the Tracker port -------------------------------------------------

    def create_issue(self, request: IssueRequest) -> IssueRef:
        """Create the issue for `request.marker`, or return the one made before.

        Raises:
            Refused: Jira refused the issue (a missing field, no permission).
            Unavailable: Jira did not answer; when the create itself got no
                answer, `retry_after` leaves the search index time to show it.
        """
        client = self._client()
        label = marker_label(request.marker)
        action = f"create the issue in project {request.project}"
        with self._translated(action):
            key = self._find_labelled(client, label)
            if key is None:
                fields = self._issue_fields(client, request, label)
                key = self._post_issue(client, fields, request, action)
        return IssueRef(key=key, url=f"{self.url}/browse/{key}")

    def transition_issue(self, request: TransitionRequest) -> None:
        """Walk an issue through its workflow to the status `request.status`, commenting once before the last move.

        Nothing moves when the issue is in that status, or in any done status,
        already. With ``resolution="wont_do"`` the last move sets the
        instance's won't-do resolution, or the comment says why it could not.

        Raises:
            Refused: no way forward leads there (the message names the status
                the issue is in and its transitions), or Jira refused the
                comment or a move.
            Unavailable: Jira did not answer.
        """
        client = self._client()
        key = request.issue_key
        with self._translated(f"move {key} to '{request.status}'"):
            issue = client.issue(key, fields="status")
            walk = Walk(key, request.status, (issue.raw or {})["fields"]["status"], request.resolution)
            while not walk.arrived:
                step = walk.choose(client.transitions(key, expand="transitions.fields"))
                if walk.is_last(step):
                    fields, note = self._resolution_fields(client, step, request.resolution)
                    self._comment(client, request, note)
                    client.transition_issue(key, str(step["id"]), fields=fields)
                    return
                client.transition_issue(key, str(step["id"]))
                walk.moved(step)
            self._comment(client, request, "")

    def update_issue(self, request: IssueUpdate) -> None:
        """Set an issue's assignee and due date (those the request names), and say why in a comment, once.

        A person Jira cannot assign (not found by email, or not assignable) leaves the assignee as it was, and
        the comment names them as the owner instead, as a new issue's description does.

        Raises:
            Refused: Jira refused the change (no such issue, no permission to edit it).
            Unavailable: Jira did not answer.
        """
        client = self._client()
        key = request.issue_key
        with self._translated(f"update {key}"):
            fields: dict[str, Any] = {"duedate": request.due.isoformat()} if request.due else {}
            note = ""
            if request.assignee:
                assignee = self._find_user(client, request.assignee)
                if assignee:
                    fields["assignee"] = assignee
                else:
                    note = f"Owner: {request.assignee}"
            if fields:
                note = self._put_fields(client, key, fields, request.assignee) or note
            text = "\n\n".join(part for part in (request.comment, note) if part)
            if text:
                self._comment_once(client, key, text, comment_tag(request.marker))

    def _put_fields(self, client: JIRA, key: str, fields: dict[str, Any], owner: str | None) -> str:
        """Set `fields` on `key`; if Jira will not assign it to the person, set the rest and say who owns it."""
        try:
            client.issue(key, fields="summary").update(fields=fields)
        except JIRAError as err:
            if not (err.status_code == 400 and "assignee" in fields and "assignee" in field_errors(err)):
                raise
            rest = {name: value for name, value in fields.items() if name != "assignee"}
            if rest:
                client.issue(key, fields="summary").update(fields=rest)
            return f"Owner: {owner}"
        return ""

    # ---- beyond the port --------------------------------------------------

    def issue_statuses(self, keys: list[str]) -> dict[str, str]:
        """The status category (``new``, ``indeterminate``, ``done``) of each issue.

        Keys Jira does not return (deleted, moved, or not visible) are left
        out. Data Center skips a key that no longer exists (``validateQuery``
        off); Jira Cloud may refuse the whole query for one, naming it.

        Raises:
            Refused: a key is malformed, or Jira refused the search.
            Unavailable: Jira did not answer.
        """
        wanted = list(dict.fromkeys(keys))
        bad = [key for key in wanted if not _ISSUE_KEY.fullmatch(key)]
        if bad:
            raise Refused(f"not Jira issue keys: {', '.join(bad)}")
        statuses: dict[str, str] = {}
        if not wanted:
            return statuses
        client = self._client()
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            with self._translated(f"read the status of {len(chunk)} issues"):
                found = client.search_issues(
                    f"key in ({', '.join(chunk)})", maxResults=0, fields=["status"], validate_query=False
                )
            for issue in found:
                statuses[issue.key] = str((issue.raw or {})["fields"]["status"]["statusCategory"]["key"])
        return statuses

    def check(self) -> str:
        """One line: which Jira, and who signoff is there.

        Raises:
            Refused: the credentials or the URL are wrong.
            Unavailable: Jira did not answer.
        """
        client = self._client()
        with self._translated("read the authenticated user"):
            me = client.myself()
            info = client.server_info()
        kind = "Jira Cloud" if self._cloud else f"Jira {info.get('deploymentType', 'Server')}"
        ident = me.get("accountId") or me.get("name") or "?"
        email = f" <{me['emailAddress']}>" if me.get("emailAddress") else ""
        return f"{kind} {info.get('version', '?')} at {self.url}, as {me.get('displayName', ident)}{email} ({ident})"

    # ---- creating -----------------------------------------------------------

    def _client(self) -> JIRA:
        """The client, built on first use; building it reads serverInfo (Cloud or not)."""
        with self._lock:
            if self._jira is None:
                with self._translated(f"reach Jira's REST API at {self.url} (check SIGNOFF_JIRA_URL)"):
                    client = JIRA(self.url, basic_auth=(self.user, self._token), max_retries=0, timeout=self._timeout)
                self._cloud = getattr(client, "deploymentType", None) == "Cloud"
                self._jira = client
            return self._jira

    def _find_labelled(self, client: JIRA, label: str) -> str | None:
        """The key of the oldest issue carrying `label`, if there is one."""
        found = client.search_issues(f'labels = "{label}" ORDER BY created ASC', maxResults=1, fields=["summary"])
        return next((str(issue.key) for issue in found), None)

    def _issue_fields(self, client: JIRA, request: IssueRequest, label: str) -> dict[str, Any]:
        """The fields of a new issue, in the dialect of this Jira (Cloud or Data Center)."""
        fields: dict[str, Any] = {
            "project": {"key": request.project},
            "issuetype": {"name": request.issue_type},
            "summary": request.summary,
            "description": request.description,
            "labels": [label, SIGNOFF_LABEL, *request.labels],
        }
        if request.due:
            fields["duedate"] = request.due.isoformat()
        if request.assignee:
            assignee = self._find_user(client, request.assignee)
            if assignee:
                fields["assignee"] = assignee
            else:
                fields["description"] = _with_owner(request.description, request.assignee)
        if request.parent and self._cloud:
            fields["parent"] = {"key": request.parent}
        elif request.parent and (epic_link := self._field_id(client, "Epic Link")):
            fields[epic_link] = request.parent
        is_epic = request.issue_type.casefold() == "epic"
        if is_epic and not self._cloud and (epic_name := self._field_id(client, "Epic Name")):
            fields[epic_name] = request.summary
        return fields

    def _post_issue(self, client: JIRA, fields: dict[str, Any], request: IssueRequest, action: str) -> str:
        """POST the issue; if Jira will not assign it to the person, create it unassigned."""
        try:
            return str(client.create_issue(fields=fields, prefetch=False).key)
        except JIRAError as err:
            if err.status_code == 400 and "assignee" in fields and "assignee" in field_errors(err):
                unassigned = {name: value for name, value in fields.items() if name != "assignee"}
                unassigned["description"] = _with_owner(request.description, request.assignee or "")
                return self._post_issue(client, unassigned, request, action)
            error = self._error(action, err)
        except TRANSIENT as err:
            error = self._error(action, err)
        if isinstance(error, Unavailable):  # the issue may exist: give search time to show it
            error = Unavailable(f"{error} (the issue may have been created)", max(error.retry_after or 0, SEARCH_LAG))
        raise error from None

    def _find_user(self, client: JIRA, email: str) -> dict[str, str] | None:
        """The assignee field for the person with `email`, if Jira shows exactly one."""
        if self._cloud:
            users = client.search_users(query=email, maxResults=20)
        else:
            users = client.search_users(user=email, maxResults=20)
        raws = [user.raw or {} for user in users]
        exact = [raw for raw in raws if str(raw.get("emailAddress", "")).casefold() == email.casefold()]
        match = exact[0] if len(exact) == 1 else raws[0] if len(raws) == 1 else None
        if match is None:
            return None
        return {"accountId": match["accountId"]} if self._cloud else {"name": match["name"]}

    def _field_id(self, client: JIRA, name: str) -> str | None:
        """The id of the field called `name` (``customfield_10014``), if this Jira has one."""
        if self._field_ids is None:
            self._field_ids = {str(field["name"]).casefold(): str(field["id"]) for field in client.fields()}
        return self._field_ids.get(name.casefold())

    # ---- moving -------------------------------------------------------------

    def _resolution_fields(
        self, client: JIRA, transition: dict[str, Any], resolution: str
    ) -> tuple[dict[str, Any] | None, str]:
        """The fields to set on the last move, and what the comment must add when won't-do cannot be recorded."""
        if resolution != "wont_do":
            return None, ""
        screen = (transition.get("fields") or {}).get("resolution")
        if screen is None:
            why = f"the '{transition.get('name')}' transition's screen has no Resolution field"
            return None, f"Closed as won't do; the resolution could not be set to won't do: {why}."
        allowed = {str(value.get("id")) for value in screen.get("allowedValues") or []}
        found = self._wont_do_resolution(client, allowed)
        if found is None:
            names = ", ".join(WONT_DO[:-2]) + " or " + WONT_DO[-2]
            why = f"this Jira has no resolution named {names}"
            return None, f"Closed as won't do; the resolution could not be set to won't do: {why}."
        return {"resolution": {"id": found}}, ""

    def _wont_do_resolution(self, client: JIRA, allowed: set[str]) -> str | None:
        """The id of this Jira's won't-do resolution (first of `WONT_DO` it has), among `allowed` when given."""
        if self._resolutions is None:  # read once per adapter: resolutions are instance-wide and rarely change
            self._resolutions = {plain(str(r.raw["name"])): str(r.raw["id"]) for r in client.resolutions()}
        ids = [self._resolutions.get(plain(name)) for name in WONT_DO]
        return next((i for i in ids if i and (not allowed or i in allowed)), None)

    def _comment(self, client: JIRA, request: TransitionRequest, note: str) -> None:
        """The request's comment (and `note`), once per marker; nothing when both are empty."""
        text = "\n\n".join(part for part in (request.comment, note) if part)
        if text:
            self._comment_once(client, request.issue_key, text, comment_tag(request.marker))

    def _comment_once(self, client: JIRA, key: str, comment: str, tag: str) -> None:
        """Add `comment` to `key` unless a comment carrying `tag` is already there."""
        if any(tag in str((existing.raw or {}).get("body", "")) for existing in client.comments(key)):
            return
        client.add_comment(key, f"{comment}\n\n{tag}")

    # ---- errors ---------------------------------------------------------------

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Re-raise the library's and requests' errors as `Refused` or `Unavailable`."""
        try:
            yield
        except (JIRAError, requests.RequestException) as err:
            raise self._error(action, err) from None

    def _error(self, action: str, err: Exception) -> IntegrationError:
        """The domain error for `err`, with a message a person can act on (`integrations.jira_errors`)."""
        return jira_error(action, err, self.url, self.user, self._token)


def _with_owner(description: str, email: str) -> str:
    """The description with the owner named in it, for an issue Jira would not assign."""
    return f"{description}\n\nOwner: {email}" if description else f"Owner: {email}"
