"""Each process shows its dated plan (`ProcessView.plan`): what the calendar and "what happens next" read."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import gate_moment, kicked_off, launch_moment, nine_utc, view_of
from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow


def dated(view: ProcessView) -> list[tuple[str, str | None]]:
    """The plan as (when, what) in time order, checking it is in time order."""
    assert [m.at for m in view.plan] == sorted(m.at for m in view.plan)
    return [(f"{m.at:%Y-%m-%d %H:%M}", m.what) for m in view.plan]


async def test_a_launch_plans_its_gate_launch_day_and_retrospective(stack: Stack) -> None:
    view = await kicked_off(await stack.start_launch(days_ahead=30, retrospective=True))
    gate, launch = gate_moment(view), launch_moment(view)
    assert gate < launch
    plan = dated(view)
    assert plan[:2] == [
        (f"{gate:%Y-%m-%d %H:%M}", "the go / no-go decision opens"),
        (f"{launch:%Y-%m-%d %H:%M}", "launch day"),
    ]
    assert [what for _, what in plan[2:]] == ["the retrospective starts"]
    assert {m.step for m in view.plan} <= {s.key for s in view.steps}


async def test_an_end_of_life_plans_its_milestones_reminders_and_data_retention(stack: Stack) -> None:
    handle = await stack.start_eol()
    today = await stack.today()
    view: ProcessView = await handle.query(EolWorkflow.view)
    plan = dated(view)
    shutdown = nine_utc(today + timedelta(days=120))
    whats = [what for _, what in plan]
    milestones = [w for w in whats if not w.startswith("the customer reminder")]
    assert milestones == [
        "the customers are told", "end of sale", "end of support", "the last approval opens", "shutdown",
        "the customers' data is deleted",
    ]  # fmt: skip
    assert (f"{shutdown:%Y-%m-%d %H:%M}", "shutdown") in plan
    # every reminder the template names falls after the announcement (10 days out) and before the shutdown
    reminders = [m for m in view.plan if m.step == "reminders"]
    assert reminders and all(nine_utc(today + timedelta(days=10)) < m.at < shutdown for m in reminders)
    assert {m.step for m in view.plan} <= {s.key for s in view.steps}


async def test_a_message_plans_its_send_time_and_one_without_plans_nothing(stack: Stack) -> None:
    now = await stack.env.get_current_time()
    send_at = (now + timedelta(days=3)).replace(microsecond=0)
    scheduled = await stack.start_comms(send_at=send_at.isoformat())
    view: ProcessView = await scheduled.query(CommsWorkflow.view)
    assert [(m.at, m.what, m.step) for m in view.plan] == [(send_at, "the message goes out", "send")]
    at_once: ProcessView = await (await stack.start_comms()).query(CommsWorkflow.view)
    assert at_once.plan == []


async def test_a_launch_view_carries_its_plan_from_the_start(stack: Stack) -> None:
    """The view query answers with the plan before the kickoff is done (the calendar lists it at once)."""
    handle = await stack.start_launch(days_ahead=20)
    assert len((await view_of(handle)).plan) == 2


async def test_a_launch_in_a_time_zone_plans_at_the_templates_hour_there(stack: Stack) -> None:
    """09:00 in New York (EST in December, 14:00 UTC; EDT 13:00 in summer) for launch day and the gate."""
    handle = await stack.start_launch(days_ahead=30, time_zone="America/New_York")
    view = await kicked_off(handle)
    for moment in view.plan:
        local = moment.at.astimezone(ZoneInfo("America/New_York"))
        assert (local.hour, local.minute) == (9, 0), moment
    assert view.params["time_zone"] == "America/New_York"
