"""Logs: one shape for every line a signoff process writes, with the process it is about.

Every line goes through structlog — signoff's own (``structlog.get_logger()``)
and the standard library's (temporalio, uvicorn, SQLAlchemy) alike — and comes
out as one JSON object (``signoff worker``, ``signoff web``) or one readable
line (``signoff dev``), on stderr. Lines logged while an activity runs carry
``process_id`` (the workflow id: a process's id is its workflow's), ``run_id``,
``workflow_type``, ``activity_type`` and ``attempt``, bound by
`ActivityLogContext`; the SDK's own workflow and activity lines carry the same
fields, taken from what its loggers attach; a web request binds the process id
of its path (api/observability.py). docs/operations.md lists the fields.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger
from temporalio import activity, workflow
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from config.settings import LogSettings

LogFormat = Literal["json", "console"]

QUIET_LOGGERS = {
    "uvicorn.access": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "alembic": logging.WARNING,  # "Context impl SQLiteImpl." and each migration applied, at every start
}
"""Libraries whose info lines repeat what signoff says better (its own access line) or say nothing useful."""

_HANDLER_NAME = "signoff"


def _workflow_fields(info: Mapping[str, Any]) -> dict[str, Any]:
    """signoff's names for what the SDK's loggers attach (``temporal_workflow`` / ``temporal_activity``)."""
    fields = {
        "process_id": info.get("workflow_id"),
        "workflow_id": info.get("workflow_id"),
        "run_id": info.get("run_id") or info.get("workflow_run_id"),
        "workflow_type": info.get("workflow_type"),
        "activity_type": info.get("activity_type"),
        "attempt": info.get("attempt"),
    }
    return {key: value for key, value in fields.items() if value is not None}


def _sdk_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Lift the workflow or activity info the SDK's loggers put on a stdlib record into the line's fields."""
    record: logging.LogRecord | None = event.get("_record")
    for attribute in ("temporal_activity", "temporal_workflow"):
        info = getattr(record, attribute, None)
        if isinstance(info, Mapping):
            for key, value in _workflow_fields(info).items():
                event.setdefault(key, value)
    return event


def _trace_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """The OpenTelemetry trace and span of the line, when tracing is on (workers/telemetry.py)."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return event
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


FIRST_KEYS = ("timestamp", "level", "logger", "message", "process_id")
"""The keys a JSON line starts with, for people reading it raw; the rest follow in the order they were given."""


def _first_keys_first(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    return {**{key: event[key] for key in FIRST_KEYS if key in event}, **event}


def _renderers(log_format: LogFormat) -> list[Processor]:
    if log_format == "json":
        return [
            # Never the frames' local variables: they hold tokens, passwords and request headers (STYLE rule 8).
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.EventRenamer("message"),
            _first_keys_first,
            structlog.processors.JSONRenderer(),
        ]
    return [
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback)
    ]


def configure_logging(
    settings: LogSettings, default_format: LogFormat, stream: IO[str] | None = None, cache: bool = True
) -> logging.Handler:
    """Send every log line of this process through structlog to `stream` (stderr), in one shape.

    Args:
        settings: the format (else `default_format`) and the level.
        default_format: the format when the settings name none: JSON in production, console in dev.
        stream: where lines go; stderr by default.
        cache: let structlog's loggers keep their configuration after first use (tests that configure
            logging more than once turn it off).

    Returns:
        The handler installed on the root logger (a second call replaces it).
    """
    log_format: LogFormat = settings.format or default_format
    level = logging.getLevelNamesMapping()[settings.level.upper()]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _trace_ids,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=cache,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, _sdk_context],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderers(log_format)],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, level))
    # The SDK's loggers also append their info to the message text; here it is in fields already.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    return handler


def unconfigure_logging(handler: logging.Handler) -> None:
    """Undo `configure_logging` (for tests): its handler off the root logger, the levels and structlog back to
    their defaults."""
    root = logging.getLogger()
    root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.reset_defaults()
    workflow.logger.workflow_info_on_message = True
    activity.logger.activity_info_on_message = True


class ActivityLogContext(Interceptor):
    """Binds the running activity's process, run, type and attempt to every line logged while it runs.

    Binding happens in the activity's own asyncio task, before the SDK hands a
    sync activity to the thread pool; the SDK runs it in a copy of that task's
    context (`contextvars.copy_context`), so the thread's lines carry the
    fields too, and no activity sees another's.
    """

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindActivity(next)


class _BindActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        fields: MutableMapping[str, Any] = _workflow_fields(
            {
                "workflow_id": info.workflow_id,
                "run_id": info.workflow_run_id,
                "workflow_type": info.workflow_type,
                "activity_type": info.activity_type,
                "attempt": info.attempt,
            }
        )
        with structlog.contextvars.bound_contextvars(**fields):
            return await self.next.execute_activity(input)
