"""An approval page's forms posted without a field a person fills in (`decision`, a hand-over's `to`) answer an HTML
page with a sentence, as the page's other refusals do, never FastAPI's JSON."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.api.test_approvals import VP, Gate, assert_nothing_recorded, form_token_of, open_gate, page
from tests.api.test_edits import form_token


@pytest.fixture
async def gate(app_client: httpx.AsyncClient, today: date) -> Gate:
    return await open_gate(app_client, today)


async def test_a_decision_form_without_a_decision_answers_a_page_saying_so(
    app_client: httpx.AsyncClient, gate: Gate
) -> None:
    token = form_token_of(await page(app_client, gate, VP))

    response = await app_client.post(gate.path(VP), data={"comment": "Fine by me", "form_token": token})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "no decision was chosen: choose one of approve, reject, changes" in response.text
    assert '"loc"' not in response.text
    await assert_nothing_recorded(app_client, gate)


async def test_a_hand_over_without_whom_to_answers_a_page_naming_the_field(
    app_client: httpx.AsyncClient, gate: Gate
) -> None:
    html = await page(app_client, gate, VP)

    response = await app_client.post(
        f"{gate.path(VP)}/delegate", data={"note": "On leave.", "form_token": form_token(html, "/delegate")}
    )
    blank = await app_client.post(
        f"{gate.path(VP)}/delegate", data={"to": "  ", "form_token": form_token(html, "/delegate")}
    )

    for answer in (response, blank):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert "to: say who takes your decision: their email address" in answer.text
        assert '"loc"' not in answer.text
    await assert_nothing_recorded(app_client, gate)
