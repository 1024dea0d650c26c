"""Every process kind and the workflow that runs it, and the workflows besides (what a worker registers)."""

from domain.schedules import STARTER
from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow
from workflows.launch import LaunchWorkflow
from workflows.postmortem import PostmortemWorkflow
from workflows.scheduled import ScheduledStartWorkflow

WORKFLOWS = {
    "launch": LaunchWorkflow,
    "eol": EolWorkflow,
    "postmortem": PostmortemWorkflow,
    "comms": CommsWorkflow,
}
"""Every process kind and the workflow that runs it."""

HELPERS: dict[str, type] = {STARTER: ScheduledStartWorkflow}
"""Workflows that are no process of their own: the start of a schedule's run (`workflows.scheduled`)."""
