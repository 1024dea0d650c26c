from datetime import timedelta

from temporalio.service import RPCError
from tests.api.helpers import launch_params, start, wait_until_idle, wait_for_action
from domain.models import ItemDoneInput, CancelInput
from workflows.launch import LaunchWorkflow


async def test_scratch(app_client, stack, today):
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)
    r = await app_client.post(f"/api/processes/{pid}/cancel", json={"reason": "scrapped"})
    print("cancel", r.status_code, r.text[:300])
    h = stack.client.get_workflow_handle(pid)
    await h.result()
    print((await h.describe()).status)
    for upd, arg in ((LaunchWorkflow.mark_item_done, ItemDoneInput(item="legal-review")), (LaunchWorkflow.cancel, CancelInput())):
        try:
            await h.execute_update(upd, arg)
        except RPCError as e:
            print("RPC", e.status, repr(e.message))
        except Exception as e:
            print("EXC", type(e), e, getattr(e, "cause", None))
    try:
        await stack.client.get_workflow_handle("launch-nope-2030-01-01").execute_update(LaunchWorkflow.cancel, CancelInput())
    except RPCError as e:
        print("RPC nope", e.status, repr(e.message))
    try:
        await stack.client.get_workflow_handle("launch-nope-2030-01-01").query(LaunchWorkflow.view)
    except RPCError as e:
        print("RPC nope query", e.status, repr(e.message))
    r = await app_client.post(f"/api/processes/{pid}/cancel", json={"reason": "again"})
    print("cancel2", r.status_code, r.text[:300])
