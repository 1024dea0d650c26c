"""Every list and string a request can carry is bounded, and an oversized one is refused before it costs much."""

from __future__ import annotations

import time
from datetime import date
from typing import Any, cast

import pytest
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from api.schemas import ActionItemsRequest, CancelRequest, ItemDoneRequest, RevisionRequest, StartRequest
from api.service import Processes
from api.starts import MAX_INPUT_BYTES, ParamsError
from config.templates import load_template
from domain.kinds import KINDS
from domain.launch import LaunchParams
from domain.models import MAX_APPROVERS

REQUEST_MODELS: list[type[BaseModel]] = [
    *(kind.params for kind in KINDS.values()),
    StartRequest,
    CancelRequest,
    ItemDoneRequest,
    ActionItemsRequest,
    RevisionRequest,
]
"""What the API and the start form take from outside (a kind's parameters arrive inside `StartRequest.params`)."""

BOUNDED_FORMATS = {"email", "date", "date-time", "uri"}
"""String formats whose validator bounds the length itself (an address is at most 254 characters)."""


def unbounded(schema: dict[str, Any], defs: dict[str, Any], where: str) -> list[str]:
    """Where in `schema` a list, mapping or string has no maximum."""
    if "$ref" in schema:
        return unbounded(defs[schema["$ref"].rsplit("/", 1)[1]], defs, where)
    found = [p for option in schema.get("anyOf", []) for p in unbounded(option, defs, where)]
    kind = schema.get("type")
    if kind == "array":
        found += [] if "maxItems" in schema else [f"{where}: a list with no maxItems"]
        found += unbounded(schema.get("items", {}), defs, f"{where}[]")
    elif kind == "object" and "properties" in schema:
        found += [p for name, prop in schema["properties"].items() for p in unbounded(prop, defs, f"{where}.{name}")]
    elif kind == "object":
        found += [] if "maxProperties" in schema else [f"{where}: a mapping with no maxProperties"]
        found += unbounded(schema.get("propertyNames", {"type": "string", "maxLength": 0}), defs, f"{where} key")
        values = schema.get("additionalProperties")
        if isinstance(values, dict):  # not `Any` (`StartRequest.params`: each kind's model bounds its values)
            found += unbounded(values, defs, f"{where} value")
    elif kind == "string" and not ({"maxLength", "enum", "const"} & set(schema)):
        found += [] if schema.get("format") in BOUNDED_FORMATS else [f"{where}: a string with no maxLength"]
    return found


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_every_list_mapping_and_string_has_a_maximum(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    assert unbounded(schema, schema.get("$defs", {}), model.__name__) == []


def list_fields() -> list[tuple[str, str, str, int]]:
    """(kind, field, a valid item, the field's maximum) for every list parameter of every kind."""
    fields = []
    for name, kind in KINDS.items():
        for field, prop in kind.params.model_json_schema()["properties"].items():
            if prop.get("type") == "array":
                item = "#news" if field == "channels" else "someone@example.com"
                fields.append((name, field, item, prop["maxItems"]))
    return fields


def refusal(kind: str, field: str, items: list[str]) -> float:
    """Seconds it takes `kind`'s parameters to refuse `items` as too many for `field`."""
    began = time.perf_counter()
    with pytest.raises(ValidationError) as refused:
        KINDS[kind].params.model_validate({field: items})
    took = time.perf_counter() - began
    [error] = [e for e in refused.value.errors() if e["loc"][0] == field]
    assert error["type"] == "too_long"
    return took


@pytest.mark.parametrize(("kind", "field", "item", "most"), list_fields())
def test_a_list_of_100000_costs_no_more_to_refuse_than_one_just_over_its_maximum(
    kind: str, field: str, item: str, most: int
) -> None:
    just_over = refusal(kind, field, [item] * (most + 1))
    far_over = refusal(kind, field, [item] * 100_000)

    # The maximum stops reading the list as soon as it is passed. Checked after every item was validated
    # instead (an address costs ~0.1 ms), 100,000 would cost many times more: ten times for a customer
    # list, and for approvers seconds (minutes with the old quadratic duplicate check).
    assert far_over < 3 * just_over + 0.25, f"{kind}.{field}: {far_over:.3f} s against {just_over:.3f} s"


def test_an_input_too_big_for_one_temporal_payload_is_refused_naming_params() -> None:
    # Every field within its limit (10,000 addresses, none too long), but together over what Temporal carries.
    domain = f"{'subdomain' * 6}.{'subdomain' * 6}.example.com"  # labels of 54 characters: 63 is the most
    audience = [f"{'customer' * 7}{n}@{domain}" for n in range(10_000)]  # 180 characters each: 254 is the most
    params = {"owner": "pm@example.com", "subject": "Hi", "body": "Hello.", "audience": audience,
              "reviewers": ["cs@example.com"]}  # fmt: skip
    processes = Processes(cast(Client, None), "queue", load_template, today=lambda: date(2026, 12, 1))

    with pytest.raises(ParamsError) as refused:
        processes._prepare("comms", params, "pm@example.com", None)

    [error] = refused.value.errors
    assert error["loc"] == ["params"]
    assert f"over the {MAX_INPUT_BYTES:,} one process can carry" in error["msg"]


def test_approvers_listed_twice_are_named_and_the_check_is_linear() -> None:
    with pytest.raises(ValidationError, match=r"b@example\.com is listed twice"):
        LaunchParams.model_validate(
            {"approvers": ["a@example.com", "b@example.com", "B@example.com"]}
        )  # addresses are compared lower-cased
    many = [f"p{n}@example.com" for n in range(MAX_APPROVERS)]
    params = {"product": "Acme", "launch_date": "2030-01-01", "owner": "pm@example.com", "approvers": many}
    assert LaunchParams.model_validate(params).approvers == many


def test_a_megabyte_channel_is_refused_naming_the_field() -> None:
    params = {"product": "Acme", "launch_date": "2030-01-01", "owner": "pm@example.com", "approvers": ["v@x.com"]}
    with pytest.raises(ValidationError) as refused:
        LaunchParams.model_validate(params | {"channel": "#" + "x" * 1024 * 1024})
    [error] = refused.value.errors()
    assert (error["loc"], error["type"]) == (("channel",), "string_too_long")
