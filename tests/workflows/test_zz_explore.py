import asyncio
from datetime import timedelta

from domain.models import CancelInput
from tests.conftest import Stack
from workflows.launch import LaunchWorkflow


async def test_explore_cancel_immediately(stack: Stack) -> None:
    now = await stack.env.get_current_time()
    print("now", now)
    handle = await stack.start_launch(days_ahead=30)
    view = await handle.execute_update(LaunchWorkflow.cancel, CancelInput(by="pm@example.com", reason="scrapped"))
    print("view", view.status, view.outcome)
    print("outbox at return", [(o.channel, o.subject) for o in stack.outbox(handle.id)][-5:])
    print("trail at return", [(e.seq, e.action) for e in stack.trail(handle.id)][-5:])
    result = await asyncio.wait_for(handle.result(), 20)
    print("result", result.status)
    print([(e.seq, e.action, e.status) for e in stack.trail(handle.id)])
    print([(o.channel, o.to, o.subject) for o in stack.outbox(handle.id)])
    print("now", await stack.env.get_current_time())


async def test_explore_sleep(stack: Stack) -> None:
    t0 = await stack.env.get_current_time()
    await stack.env.sleep(timedelta(seconds=1))
    t1 = await stack.env.get_current_time()
    await asyncio.sleep(1)
    t2 = await stack.env.get_current_time()
    print("times", t0, t1, t2)
