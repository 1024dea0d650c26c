"""Every process kind and the workflow that runs it (what a worker registers)."""

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
