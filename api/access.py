"""Who may use which route: the table docs/security.md shows, and the one check that holds every request to it.

Every route is in `ROUTES` with what it needs (`domain.access.Need`); the app
runs `authorize` before each, so a route missing from the table answers 500
and tests/api/test_access.py (which walks every route) fails. Per-process
rules read the process's owner, or the item's, from the process itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute

from api.auth import Authenticator
from domain.access import Caller, Need, Role, refusal
from domain.errors import Forbidden, NotFound, Unauthenticated

ROUTES: dict[tuple[str, str], Need] = {
    # the REST API
    ("POST", "/api/processes"): Need.MEMBER,
    ("POST", "/api/plans"): Need.MEMBER,  # a preview: checked as a start, nothing started (api/routes/plans.py)
    ("GET", "/api/processes"): Need.VIEWER,
    ("GET", "/api/processes/{process_id}"): Need.VIEWER,
    ("POST", "/api/processes/{process_id}/cancel"): Need.PROCESS_OWNER,
    ("POST", "/api/processes/{process_id}/resend"): Need.PROCESS_OWNER,
    ("POST", "/processes/{process_id}/resend"): Need.PROCESS_OWNER,
    ("POST", "/api/processes/{process_id}/remind"): Need.PROCESS_OWNER,
    ("POST", "/api/processes/{process_id}/items/{item}/done"): Need.ITEM_OWNER,
    ("POST", "/api/processes/{process_id}/action-items"): Need.PROCESS_OWNER,
    ("POST", "/api/processes/{process_id}/revisions"): Need.PROCESS_OWNER,
    ("POST", "/api/processes/{process_id}/edits"): Need.PROCESS_OWNER,
    ("POST", "/api/processes/{process_id}/steps/{step}/recover"): Need.PROCESS_OWNER,  # a held step's rerun/skip/end
    ("GET", "/api/processes/{process_id}/audit"): Need.VIEWER,
    ("GET", "/api/processes/{process_id}/evidence"): Need.VIEWER,
    ("GET", "/api/audit"): Need.VIEWER,
    ("GET", "/api/outbox"): Need.ADMIN,
    ("GET", "/api/me"): Need.VIEWER,
    ("GET", "/api/mine"): Need.VIEWER,  # one's own work; another person's: an admin (api/routes/mine.py)
    ("GET", "/api/calendar"): Need.VIEWER,
    # approval links: the link is the credential (the approver it names decides)
    ("GET", "/approve/{token}"): Need.ANYONE,
    ("POST", "/approve/{token}"): Need.ANYONE,
    ("POST", "/approve/{token}/delegate"): Need.ANYONE,  # the approver hands their decision on, from their link
    # webhooks and Slack's buttons: the signature is the credential
    ("POST", "/hooks/jira"): Need.ANYONE,
    ("POST", "/hooks/events"): Need.ANYONE,
    ("POST", "/hooks/slack"): Need.ANYONE,
    # pages for people
    ("GET", "/"): Need.VIEWER,
    ("GET", "/processes/{process_id}"): Need.VIEWER,
    ("GET", "/mine"): Need.VIEWER,
    # acting from a process's page (api/routes/process_actions.py): the same rules as the REST API's twins
    ("POST", "/processes/{process_id}/items/{item}/done"): Need.ITEM_OWNER,
    ("POST", "/processes/{process_id}/remind"): Need.PROCESS_OWNER,
    ("POST", "/processes/{process_id}/revisions"): Need.PROCESS_OWNER,
    ("POST", "/processes/{process_id}/action-items"): Need.PROCESS_OWNER,
    ("POST", "/processes/{process_id}/edits"): Need.PROCESS_OWNER,
    ("POST", "/processes/{process_id}/steps/{step}/recover"): Need.PROCESS_OWNER,
    ("GET", "/processes/{process_id}/cancel"): Need.PROCESS_OWNER,
    ("POST", "/processes/{process_id}/cancel"): Need.PROCESS_OWNER,
    ("GET", "/outbox"): Need.ADMIN,
    ("GET", "/calendar"): Need.VIEWER,
    ("GET", "/start"): Need.MEMBER,
    ("POST", "/start"): Need.MEMBER,
    # recurring processes (api/routes/schedules.py): members make them; their maker or an admin changes them
    ("POST", "/api/schedules"): Need.MEMBER,
    ("GET", "/api/schedules"): Need.VIEWER,
    ("GET", "/api/schedules/{name}"): Need.VIEWER,
    ("POST", "/api/schedules/{name}/pause"): Need.SCHEDULE_OWNER,
    ("POST", "/api/schedules/{name}/unpause"): Need.SCHEDULE_OWNER,
    ("DELETE", "/api/schedules/{name}"): Need.SCHEDULE_OWNER,
    ("GET", "/schedules"): Need.VIEWER,
    ("POST", "/schedules/{name}/pause"): Need.SCHEDULE_OWNER,
    ("POST", "/schedules/{name}/unpause"): Need.SCHEDULE_OWNER,
    ("POST", "/schedules/{name}/delete"): Need.SCHEDULE_OWNER,
    # signing in and out
    ("GET", "/login"): Need.ANYONE,
    ("GET", "/auth/callback"): Need.ANYONE,
    ("POST", "/logout"): Need.ANYONE,
    # operations and the API's own description
    ("GET", "/healthz"): Need.ANYONE,
    ("GET", "/metrics"): Need.VIEWER,
    ("GET", "/openapi.json"): Need.ANYONE,
    ("GET", "/docs"): Need.ANYONE,
    ("GET", "/docs/oauth2-redirect"): Need.ANYONE,
    ("GET", "/redoc"): Need.ANYONE,
    ("GET", "/docs/assets/{asset}"): Need.ANYONE,  # Swagger UI's and ReDoc's own files
}
"""(method, path) → what the caller needs. HEAD is GET's."""


def need_of(method: str, path: str) -> Need | None:
    """What the route `method path` needs; None if the table forgot it."""
    return ROUTES.get(("GET" if method == "HEAD" else method, path))


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of `url`, lower-cased, without a default port; None if `url` is malformed (a port
    out of range or not a number, an unclosed ``[``), which no browser sends for a page of ours."""
    try:
        parts = urlsplit(url.strip().lower())
        default = {"http": 80, "https": 443}.get(parts.scheme)
        port = f":{parts.port}" if parts.port and parts.port != default else ""
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.hostname}{port}"


def same_site(request: Request, public_url: str) -> bool:
    """Whether a request comes from this site's pages (or from no page at all: a client, a script).

    The browser's Fetch metadata decides where it is sent (``Sec-Fetch-Site``,
    which no page can forge): same-origin, or none for the person's own
    navigation. Without it, the Origin must be the public URL's or the
    request's own; ``null`` (a sandboxed or ``data:`` page) is refused. Our
    pages' ``Referrer-Policy: no-referrer`` makes the browser send ``Origin:
    null`` on their own form posts, which is why the metadata comes first.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    seen = None if origin == "null" else _origin(origin)  # a malformed one is foreign
    return seen is not None and seen in {_origin(str(request.base_url)), _origin(public_url)}


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_FROM_A_SESSION = ("/hooks/", "/approve/")
"""Changes that carry their own proof, so another site's page gains nothing by sending them: webhooks (their
sender's signature) and decisions (the form token bound to the approval link, which only its holder has)."""


async def authorize(request: Request) -> Caller | None:
    """Hold the request to its route's rule; the proven caller (None on a route anyone may use unsigned).

    Raises:
        Unauthenticated: the route needs someone and nobody is proven.
        Forbidden: the caller may not; the sentence says who may.
    """
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else getattr(route, "path", request.url.path)
    need = need_of(request.method, path)
    if need is None:
        raise LookupError(f"{request.method} {path} has no access rule in api/access.py")
    services = request.app.state.services
    # a cookie (or dev mode's loopback) would otherwise lend another site's page the person's power
    unsafe = request.method not in SAFE_METHODS and not path.startswith(NOT_FROM_A_SESSION)
    if unsafe and not same_site(request, services.public_url):
        raise Forbidden("a change is made from this site's own pages (or a client), not from another site")
    authenticator: Authenticator = services.auth
    try:
        caller = authenticator.caller(request)
    except Unauthenticated:
        if need is not Need.ANYONE:
            raise
        caller = None  # a route anyone may use ignores a credential that proves nothing
    request.state.caller = caller
    if need is Need.ANYONE:
        return caller
    if caller is None:
        raise Unauthenticated(_sign_in_hint(authenticator))
    owner = item_owner = None
    if need in (Need.PROCESS_OWNER, Need.ITEM_OWNER) and caller.role is not Role.ADMIN:
        owner, item_owner = await _owners(request, need)
    if need is Need.SCHEDULE_OWNER and caller.role is Role.MEMBER:  # (a viewer is refused by role alone)
        owner = await services.schedules.creator(request.path_params["name"])
    why = refusal(caller, need, owner, item_owner)
    if why:
        raise Forbidden(why)
    return caller


async def _owners(request: Request, need: Need) -> tuple[str, str | None]:
    """The process's owner and (for an item) the item's, from the process itself."""
    services = request.app.state.services
    process_id = request.path_params["process_id"]
    listed = services.store.process(process_id)
    if need is Need.PROCESS_OWNER and listed:
        return str(listed["owner"]), None
    view = await services.processes.view(process_id)
    if need is Need.PROCESS_OWNER:
        return view.owner, None
    item = next((i for i in view.items if i.key == request.path_params["item"]), None)
    if item is None:
        raise NotFound(f"{process_id} has no item {request.path_params['item']!r}")
    return view.owner, item.owner


def _sign_in_hint(authenticator: Authenticator) -> str:
    ways = ["a token (Authorization: Bearer TOKEN; signoff token create makes one)"]
    if authenticator.sign_in_url:
        ways.insert(0, f"signing in at {authenticator.sign_in_url}")
    return "who is asking? this needs " + " or ".join(ways)


def current_caller(request: Request) -> Caller:
    """The caller `authorize` proved, for routes that need someone."""
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:
        raise Unauthenticated("who is asking? this needs a signed-in person or a token")
    return caller


CurrentUser = Annotated[Caller, Depends(current_caller)]
"""The proven caller of a route that needs one."""


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) `app` answers, through the routers it includes (HEAD as GET)."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Iterable[Any]) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.165)
                walk(route.original_router.routes)
            elif hasattr(route, "methods") and route.methods:
                found.update(("GET" if m == "HEAD" else m, route.path) for m in route.methods)
            else:  # a mount or a websocket: `authorize` never runs for it, so no rule could hold it
                found.add(("*", getattr(route, "path", repr(route))))

    walk(app.router.routes)
    return found
