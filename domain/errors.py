"""One error tree for signoff; callers decide what to do by type.

::

    SignoffError
    ├── BadInput            the caller sent something wrong (HTTP 422, CLI exit 2)
    │   ├── InvalidField    one named field is wrong
    │   │   └── InvalidFields   several at once, each named (`refuse_all`)
    │   ├── UnknownKind     no process of that kind
    │   ├── ParamsError     a start's parameters, every wrong field named (api.service)
    │   ├── TemplateError   a process template that does not load (config.templates)
    │   ├── TriggerError    a trigger rule that does not load (config.triggers)
    │   ├── InvalidToken    a tampered approval link or form (HTTP 400; api.tokens)
    │   ├── BadSignature    a Slack request not signed by Slack (integrations.slack_interactions)
    │   ├── NotADecision    a Slack payload that is no button of ours (same)
    │   ├── Unsigned        a webhook delivery not signed with its secret (HTTP 401; integrations.webhooks)
    │   └── Stale           a signed webhook delivery outside its freshness window (HTTP 400; same)
    ├── Unauthenticated     no proven identity where one is needed (HTTP 401; api.auth)
    ├── Forbidden           a proven identity that may not do this (HTTP 403; domain.access)
    ├── NotFound            no such process, item or gate (HTTP 404)
    ├── Conflict            the request clashes with the state (HTTP 409)
    ├── Expired             an approval link past its gate, or replaced by a newer round (HTTP 410)
    ├── NotTheApprover      a Slack click by someone the request was not for (api.routes.slack)
    └── IntegrationError    a tracker, mailer or chat call failed
        ├── Refused         the other side said no: do not retry (4xx-like)
        └── Unavailable     a timeout, 5xx or 429: retry later

An error crosses Temporal (a workflow refusing an update) as an
``ApplicationError`` whose type is the error's class name, and comes back as
the same class through `error_named`: one table, no matching on messages.
"""

from __future__ import annotations


class SignoffError(Exception):
    """Base of every error signoff raises on purpose."""


class BadInput(SignoffError):
    """The caller sent something that cannot be accepted as it is."""


class InvalidField(BadInput):
    """One named field of the input is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    @property
    def each(self) -> list[InvalidField]:
        """The wrong fields, one error each: this one alone (`InvalidFields` has several)."""
        return [self]


class InvalidFields(InvalidField):
    """Several named fields are wrong: a check that finds more than one problem says them all at once."""

    def __init__(self, errors: list[InvalidField]) -> None:
        if not isinstance(errors, list) or not errors:
            raise TypeError("InvalidFields takes the list of the errors it gathers")
        super().__init__(errors[0].field, errors[0].reason)
        self.args = ("; ".join(str(error) for error in errors),)
        self._each = [one for error in errors for one in error.each]

    @property
    def each(self) -> list[InvalidField]:
        return self._each


def refuse_all(errors: list[InvalidField]) -> None:
    """Refuse `errors` together: nothing when there are none, one as itself, more as `InvalidFields`.

    Raises:
        InvalidField: one or more wrong fields, every one named.
    """
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidFields(errors)


class UnknownKind(BadInput):
    """A process kind signoff does not know."""

    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__(f"unknown process kind {kind!r}; known kinds: {', '.join(known)}")
        self.kind = kind
        self.known = known


class Unauthenticated(SignoffError):
    """The request proves no identity (or a bad one: an unknown, revoked or expired token) where one is needed."""


class Forbidden(SignoffError):
    """Who asks is known, and may not do this; the message says who may."""


class NotFound(SignoffError):
    """No such process, checklist item or gate."""


class Conflict(SignoffError):
    """The request clashes with the current state (duplicate start, closed gate)."""


class Expired(SignoffError):
    """An approval link whose gate has closed or been replaced."""


class IntegrationError(SignoffError):
    """A call to an outside system failed."""


class Refused(IntegrationError):
    """The outside system refused the request; retrying will not help."""


class Unavailable(IntegrationError):
    """The outside system could not answer now; a retry may succeed.

    Attributes:
        retry_after: seconds the system asked us to wait, when it said.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def error_named(name: str | None, message: str) -> SignoffError:
    """The error whose class is called `name`, saying `message`.

    A class that needs more than a message (`InvalidField`, `UnknownKind`) comes
    back as its nearest ancestor that takes one; a name not in this tree is a
    `BadInput`, the refusal of a request as it was sent.
    """
    cls = _BY_NAME.get(name or "", BadInput)
    for base in cls.__mro__:  # down to SignoffError, which always takes a message
        try:
            error: SignoffError = base(message)
        except TypeError:  # it needs more than a message
            continue
        return error
    raise AssertionError("unreachable: SignoffError takes a message")


def _tree(root: type[SignoffError]) -> list[type[SignoffError]]:
    return [root, *(c for sub in root.__subclasses__() for c in _tree(sub))]


_BY_NAME: dict[str, type[SignoffError]] = {cls.__name__: cls for cls in _tree(SignoffError)}
