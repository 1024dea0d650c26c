"""The processes, as deterministic Temporal workflows.

No I/O, no clock, no randomness here: time is `workflow.now()`, ids are
`workflow.uuid4()`, and every side effect is an activity.
"""

from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow
from workflows.launch import LaunchWorkflow
from workflows.postmortem import PostmortemWorkflow

WORKFLOWS = {
    "launch": LaunchWorkflow,
    "eol": EolWorkflow,
    "postmortem": PostmortemWorkflow,
    "comms": CommsWorkflow,
}
"""Every process kind and the workflow that runs it."""

__all__ = ["WORKFLOWS", "CommsWorkflow", "EolWorkflow", "LaunchWorkflow", "PostmortemWorkflow"]
