from datetime import timedelta

from domain.enums import Decision, ProcessStatus
from domain.models import DecisionInput, ProcessView
from tests.conftest import Stack
from workflows.launch import LaunchWorkflow


async def test_launch_runs_from_kickoff_to_announcement(stack: Stack) -> None:
    handle = await stack.start_launch(days_ahead=30)
    await stack.env.sleep(timedelta(days=28))
    view: ProcessView = await handle.query(LaunchWorkflow.view)
    assert view.status == ProcessStatus.WAITING
    for approver in ("vp@example.com", "legal@example.com"):
        await handle.execute_update(
            LaunchWorkflow.decide,
            DecisionInput(gate="go-no-go", approver=approver, decision=Decision.APPROVE),
        )
    result = await handle.result()
    assert result.status == ProcessStatus.COMPLETED
    actions = [e.action for e in stack.trail(handle.id)]
    print(actions)
    print([(o.channel, o.to, o.subject) for o in stack.outbox(handle.id)])
