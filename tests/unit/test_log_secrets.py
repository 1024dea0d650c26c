"""A failure's log line never carries what its frames held: tokens, passwords, request headers."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Literal

import pytest
import structlog

from config.settings import LogSettings
from workers.logs import configure_logging

SECRET = "xoxb-not-for-the-log-1234"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def fail_with_a_secret_in_a_local() -> None:
    headers = {"Authorization": f"Bearer {SECRET}"}  # what an HTTP client's frame holds when a call fails
    raise ConnectionError(f"could not reach the service ({len(headers)} header)")


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_an_exception_is_logged_without_its_frames_locals(
    log_format: Literal["json", "console"], restore_logging: None
) -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(format=log_format), log_format, stream=stream, cache=False)

    try:
        fail_with_a_secret_in_a_local()
    except ConnectionError:
        logging.getLogger("temporalio.activity").exception("Completing activity as failed")  # as the SDK does
        structlog.get_logger().exception("delivery failed")

    printed = stream.getvalue()
    assert "could not reach the service" in printed and "fail_with_a_secret_in_a_local" in printed
    assert SECRET not in printed
