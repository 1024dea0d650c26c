"""Errors cross Temporal by type: a refusal's type is its class name, and the API gets the class back."""

from __future__ import annotations

import pytest

from domain.errors import (
    BadInput,
    Conflict,
    Expired,
    IntegrationError,
    InvalidField,
    NotFound,
    Refused,
    SignoffError,
    Unavailable,
    UnknownKind,
    error_named,
)
from workflows.steps.refusal import refuse


@pytest.mark.parametrize("cls", [BadInput, NotFound, Conflict, Expired, IntegrationError, Refused, Unavailable])
def test_a_refusal_comes_back_as_the_error_it_carried(cls: type[SignoffError]) -> None:
    failure = refuse(cls("the gate is closed"))

    back = error_named(failure.type, failure.message)

    assert type(back) is cls and str(back) == "the gate is closed" and failure.non_retryable


@pytest.mark.parametrize(
    ("error", "comes_back_as"),
    [(InvalidField("owner", "not an email"), BadInput), (UnknownKind("lunch", ["launch"]), BadInput)],
)
def test_an_error_that_needs_more_than_a_message_comes_back_as_its_nearest_kind(
    error: SignoffError, comes_back_as: type[SignoffError]
) -> None:
    failure = refuse(error)

    back = error_named(failure.type, failure.message)

    assert type(back) is comes_back_as and str(back) == str(error)


@pytest.mark.parametrize("name", [None, "", "ValueError", "Conflict "])
def test_a_type_outside_the_tree_is_bad_input(name: str | None) -> None:
    assert type(error_named(name, "no")) is BadInput
