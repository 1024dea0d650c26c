"""How every workflow refuses an update: one signoff error, carried across Temporal by its type."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain.errors import SignoffError


def refuse(error: SignoffError) -> ApplicationError:
    """An update's refusal, carrying `error` across Temporal: its type is the error's class name,
    which the API turns back into the same error (`domain.errors.error_named`) and so into its status."""
    return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)
