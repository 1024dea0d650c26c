"""Turn integration errors into Temporal's retry decisions.

A refusal (bad request, no permission, unknown address) is non-retryable;
an outage or a rate limit retries, after `Retry-After` when the system said.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from domain.errors import Refused, Unavailable


@contextmanager
def integration_errors() -> Iterator[None]:
    """Re-raise `Refused` and `Unavailable` as `ApplicationError` Temporal understands."""
    try:
        yield
    except Refused as err:
        raise ApplicationError(str(err), type="Refused", non_retryable=True) from err
    except Unavailable as err:
        delay = timedelta(seconds=err.retry_after) if err.retry_after else None
        raise ApplicationError(str(err), type="Unavailable", next_retry_delay=delay) from err
