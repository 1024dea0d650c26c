import asyncio

from domain.models import CancelInput
from tests.conftest import Stack
from workflows.launch import LaunchWorkflow


async def test_explore_cancel_immediately(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=30)
    upd = await handle.start_update(LaunchWorkflow.cancel, CancelInput(by="pm@example.com", reason="scrapped"),
                                    wait_for_stage=__import__("temporalio.client").client.WorkflowUpdateStage.ACCEPTED)
    await asyncio.sleep(3)
    desc = await handle.describe()
    print("STATUS", desc.status)
    hist = await handle.fetch_history()
    for ev in hist.events:
        et = ev.event_type
        name = type(ev).__name__
        print("EV", ev.event_id, et, ev.WhichOneof("attributes"))
        if ev.WhichOneof("attributes") in ("workflow_execution_completed_event_attributes", "workflow_execution_failed_event_attributes", "workflow_execution_canceled_event_attributes", "workflow_task_failed_event_attributes", "workflow_execution_update_accepted_event_attributes", "workflow_execution_update_completed_event_attributes", "workflow_execution_cancel_requested_event_attributes"):
            print(getattr(ev, ev.WhichOneof("attributes")))
    print([(e.seq, e.action, e.status) for e in stack.trail(handle.id)])
    print([(o.channel, o.to, o.subject) for o in stack.outbox(handle.id)])
