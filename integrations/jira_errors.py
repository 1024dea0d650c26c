"""Jira's errors as the domain's: `Refused` (a 4xx; retrying will not help) and `Unavailable` (429, 5xx,
timeouts, a dropped connection; after `retry_after` seconds when Jira said), each with a sentence a person
can act on. The token never appears in one, and Jira's own exceptions (whose text carries response headers)
are not chained onto ours, so nothing of them reaches workflow history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from jira.exceptions import JIRAError

from domain.errors import IntegrationError, Refused, Unavailable

TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
"""What a call that may well work next time fails with."""


def jira_error(action: str, err: Exception, url: str, user: str, token: str) -> IntegrationError:
    """The domain error for `err`, raised while trying to `action` at `url` as `user`."""
    if isinstance(err, JIRAError):
        error = _http_error(action, err, url, user)
    elif isinstance(err, requests.exceptions.SSLError):
        error = Refused(f"TLS with Jira at {url} failed: check its certificate and SIGNOFF_JIRA_URL")
    elif isinstance(err, TRANSIENT):
        error = Unavailable(f"Jira at {url} did not answer while trying to {action}: {type(err).__name__}")
    elif isinstance(err, requests.exceptions.JSONDecodeError):
        error = Refused(f"{url} did not answer like Jira while trying to {action}: check SIGNOFF_JIRA_URL")
    else:
        error = Refused(f"cannot reach Jira at {url!r} ({type(err).__name__}): check SIGNOFF_JIRA_URL")
    # Scrub the token should Jira echo it; a short one would scrub ordinary words.
    if len(token) >= 8 and token in str(error):
        error.args = (str(error).replace(token, "***"),)
    return error


def _http_error(action: str, err: JIRAError, url: str, user: str) -> IntegrationError:
    status = err.status_code
    detail = _detail(err)
    headers = err.response.headers if err.response is not None else {}
    if status == 401:
        return Refused(
            f"Jira rejected the credentials for user {user} at {url}: check SIGNOFF_JIRA_USER and SIGNOFF_JIRA_TOKEN"
        )
    if status == 403 and "X-Authentication-Denied-Reason" in headers:
        reason = headers["X-Authentication-Denied-Reason"]
        return Refused(f"Jira denied the login of {user} ({reason}): log in once in a browser, then retry")
    if status == 403:
        return Refused(f"Jira user {user} may not {action}: {detail}")
    if status == 404:
        return Refused(f"Jira could not {action}: not found, or not visible to {user} ({detail})")
    if status == 429:
        wait = _retry_after(headers.get("Retry-After"))
        return Unavailable(f"Jira is rate-limiting {user} (while trying to {action})", wait)
    if status is None or status >= 500:
        wait = _retry_after(headers.get("Retry-After"))
        return Unavailable(f"Jira failed to {action}: {detail}", wait)
    return Refused(f"Jira refused to {action}: {detail}")


def _body(err: JIRAError) -> dict[str, Any]:
    try:
        body = err.response.json() if err.response is not None else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def field_errors(err: JIRAError) -> dict[str, Any]:
    """Jira's per-field errors of a 400 (``{"assignee": "User 'x' cannot be assigned issues."}``)."""
    errors = _body(err).get("errors")
    return errors if isinstance(errors, dict) else {}


def _detail(err: JIRAError) -> str:
    """Jira's own words for an error: its errorMessages and per-field errors."""
    body = _body(err)
    parts = [str(message) for message in body.get("errorMessages") or []]
    parts += [f"{field}: {message}" for field, message in field_errors(err).items()]
    text = "; ".join(parts) or (err.text or "").strip() or "no details"
    return f"HTTP {err.status_code}: {text[:500]}" if err.status_code else text[:500]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None
