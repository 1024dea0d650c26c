"""Issues in the tracker (Jira, or the outbox)."""

from __future__ import annotations

from temporalio import activity

from activities.errors import integration_errors
from domain.requests import IssueRef, IssueRequest, IssueStatuses, IssueUpdate, StatusRequest, TransitionRequest
from integrations.ports import Tracker


class TrackerActivities:
    """Creates and moves tracker issues; a retry never makes a second issue."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    @activity.defn(name="create_issue", no_thread_cancel_exception=True)
    def create_issue(self, request: IssueRequest) -> IssueRef:
        """Create the issue for `request.marker`, or find the one made before."""
        with integration_errors():
            return self.tracker.create_issue(request)

    @activity.defn(name="issue_statuses")
    def issue_statuses(self, request: StatusRequest) -> IssueStatuses:
        """Where the issues stand in the tracker (for the reconciliation poll)."""
        with integration_errors():
            return IssueStatuses(statuses=self.tracker.issue_statuses(request.keys))

    @activity.defn(name="transition_issue", no_thread_cancel_exception=True)
    def transition_issue(self, request: TransitionRequest) -> None:
        """Move an issue to a status, with a comment."""
        with integration_errors():
            self.tracker.transition_issue(request)

    @activity.defn(name="update_issue", no_thread_cancel_exception=True)
    def update_issue(self, request: IssueUpdate) -> None:
        """Change an issue's assignee or due date, with a comment saying why."""
        with integration_errors():
            self.tracker.update_issue(request)
