"""LaunchParams: what a user gives to start a launch."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from domain.errors import BadInput
from domain.launch import LaunchParams

LAUNCH = date(2026, 12, 15)


def params(**changes: Any) -> dict[str, Any]:
    valid: dict[str, Any] = {
        "product": "Acme Analytics 2.0",
        "launch_date": "2026-12-15",
        "owner": "pm@example.com",
        "approvers": ["vp@example.com", "legal@example.com", "cto@example.com"],
        "owners": {"docs": "docs@example.com"},
    }
    return valid | changes


def without(field: str) -> dict[str, Any]:
    data = params()
    del data[field]
    return data


def first_error(data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        LaunchParams.model_validate(data)
    return dict(caught.value.errors()[0])


def test_valid_params_parse() -> None:
    launch = LaunchParams.model_validate(params())
    assert launch.launch_date == LAUNCH
    assert launch.approvers == ["vp@example.com", "legal@example.com", "cto@example.com"]
    assert launch.policy == "all"
    assert launch.jira_project == "LAUNCH"


def test_id_is_readable() -> None:
    assert LaunchParams.model_validate(params()).id() == "launch-acme-analytics-2-0-2026-12-15"


def test_emails_are_lower_cased() -> None:
    launch = LaunchParams.model_validate(params(owner="PM@Example.com", approvers=["VP@Example.COM"]))
    assert launch.owner == "pm@example.com"
    assert launch.approvers == ["vp@example.com"]


def test_missing_product_names_the_field() -> None:
    error = first_error(without("product"))
    assert error["loc"] == ("product",)
    assert error["type"] == "missing"


def test_blank_product_is_refused() -> None:
    assert first_error(params(product="   "))["loc"] == ("product",)


def test_bad_email_in_approvers_names_its_place() -> None:
    error = first_error(params(approvers=["vp@example.com", "not-an-email"]))
    assert error["loc"] == ("approvers", 1)


def test_no_approvers_is_refused() -> None:
    assert first_error(params(approvers=[]))["loc"] == ("approvers",)


def test_duplicate_approvers_are_refused() -> None:
    error = first_error(params(approvers=["vp@example.com", "legal@example.com", "vp@example.com"]))
    assert error["loc"] == ("approvers",)
    assert "twice" in error["msg"]


def test_approvers_differing_only_in_case_are_duplicates() -> None:
    assert first_error(params(approvers=["vp@example.com", "VP@example.com"]))["loc"] == ("approvers",)


def test_quorum_larger_than_approvers_names_the_policy() -> None:
    error = first_error(params(policy=4))
    assert error["loc"] == ("policy",)
    assert "quorum of 4" in error["msg"]


def test_quorum_of_zero_is_refused() -> None:
    assert first_error(params(policy=0))["loc"][0] == "policy"


def test_unknown_policy_word_is_refused() -> None:
    assert first_error(params(policy="most"))["loc"][0] == "policy"


def test_malformed_launch_date_names_the_field() -> None:
    assert first_error(params(launch_date="15/12/2026"))["loc"] == ("launch_date",)


@pytest.mark.parametrize("project", ["launch", "1LAUNCH", "LAUNCH-X", "", "A" * 21])
def test_bad_jira_project_names_the_field(project: str) -> None:
    assert first_error(params(jira_project=project))["loc"] == ("jira_project",)


def test_unknown_field_is_refused() -> None:
    assert first_error(params(colour="blue"))["loc"] == ("colour",)


def test_policy_given_as_a_string_number_parses() -> None:
    assert LaunchParams.model_validate(params(policy="2")).policy == 2


@pytest.mark.parametrize("policy", ["all", "any"])
def test_policy_words_are_kept(policy: str) -> None:
    assert LaunchParams.model_validate(params(policy=policy)).policy == policy


def test_check_start_refuses_a_past_date() -> None:
    launch = LaunchParams.model_validate(params())
    with pytest.raises(BadInput, match="launch_date"):
        launch.check_start(date(2026, 12, 16))


def test_check_start_accepts_today() -> None:
    LaunchParams.model_validate(params()).check_start(LAUNCH)


def test_check_start_accepts_a_future_date() -> None:
    LaunchParams.model_validate(params()).check_start(date(2026, 1, 1))


def test_owner_of_a_named_role_is_the_one_named() -> None:
    assert LaunchParams.model_validate(params()).owner_of("docs") == "docs@example.com"


def test_owner_of_an_unnamed_role_falls_back_to_the_owner() -> None:
    assert LaunchParams.model_validate(params()).owner_of("legal") == "pm@example.com"
