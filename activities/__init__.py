"""Every side effect of a process, as Temporal activities.

Each class takes its ports in the constructor; the worker hands in the real
adapters, tests hand in fakes. Every activity is idempotent by a key.

Those that change something are declared ``no_thread_cancel_exception``: a
cancellation (the process cancelled, a heartbeat answered "timed out")
never cuts a send off between the service's answer and the ledger's record
of it; the call runs to its end and its result is dropped.
"""

from activities.audit import AuditActivities
from activities.chat import ChatActivities
from activities.mail import MailActivities
from activities.tracker import TrackerActivities

__all__ = ["AuditActivities", "ChatActivities", "MailActivities", "TrackerActivities"]
