"""Every side effect of a process, as Temporal activities.

Each class takes its ports in the constructor; the worker hands in the real
adapters, tests hand in fakes. Every activity is idempotent by a key.
"""

from activities.audit import AuditActivities
from activities.chat import ChatActivities
from activities.mail import MailActivities
from activities.tracker import TrackerActivities

__all__ = ["AuditActivities", "ChatActivities", "MailActivities", "TrackerActivities"]
