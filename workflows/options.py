"""Activity options shared by every process: timeouts and retries.

Integrations retry with backoff for up to a day (an outage of Jira or the
mail relay should delay a launch, not lose a message), except refusals,
which retrying cannot fix. The audit store retries until it answers.

Every activity has a short heartbeat timeout, and the worker heartbeats for
each while it runs (`workers.heartbeats`): the activity of a worker that
died is tried again within `HEARTBEAT` and a second, where the start-to-close
timeout alone made its process (and a person's click) wait a minute. The
start-to-close timeouts stay, for a call that hangs in a live worker.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

HEARTBEAT = timedelta(seconds=5)
"""How long an activity may go without a heartbeat before Temporal gives it to another attempt."""

INTEGRATION: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "heartbeat_timeout": HEARTBEAT,
    "schedule_to_close_timeout": timedelta(days=1),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=10),
        non_retryable_error_types=["Refused"],
    ),
}

AUDIT: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "heartbeat_timeout": HEARTBEAT,
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(milliseconds=200),
        maximum_interval=timedelta(minutes=1),
    ),
}

RECONCILE: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "heartbeat_timeout": HEARTBEAT,
    "schedule_to_close_timeout": timedelta(minutes=10),  # a missed round is tried again at the next
    "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=2), non_retryable_error_types=["Refused"]),
}
