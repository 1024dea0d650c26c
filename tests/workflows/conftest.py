"""Fixtures of the workflow tests, on top of `tests/conftest.py`'s `env` and `stack`."""

from __future__ import annotations

import pytest

from tests.conftest import Stack
from tests.workflows.helpers import Launch


@pytest.fixture
def launch(stack: Stack) -> Launch:
    """`stack.start_launch` (the stack ends what a test left running)."""
    return stack.start_launch
