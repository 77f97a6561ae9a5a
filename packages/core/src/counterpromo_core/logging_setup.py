"""The one logging setup of the API, the worker and the CLI: JSON lines, the same fields.

Standard library only, so every process (and the CLI's ``--help``) can import it cheaply.

Every line is one JSON object with ``time`` (ISO 8601, UTC), ``level`` (``debug``,
``info``, ``warning``, ``error``, ``critical``), ``logger`` and ``message``; then the
fields bound to the current context with ``log_context`` (``request_id`` in the API,
``job_id``, ``type``, ``account_id``, ``request_id`` while the worker runs a job); then
whatever the call passed in ``extra=``; and, when the record carries an exception,
``exception`` (its type), ``exception_message`` and ``traceback`` (the formatted text).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, TextIO

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

CONTEXT_FIELDS = ("request_id", "job_id", "type", "account_id")
"""The context fields the processes bind, in the order they appear on a line."""

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "counterpromo_log_context", default=_EMPTY
)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

# Libraries that log every retry, connection and credential lookup at INFO.
_NOISY = ("botocore", "boto3", "urllib3", "s3transfer", "stripe", "httpx", "httpcore")


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` to every log line written in this context (thread or task) until exit.

    ``None`` values are left out; values are logged as text.
    """
    added = {name: str(value) for name, value in fields.items() if value is not None}
    token = _context.set(MappingProxyType({**_context.get(), **added}))
    try:
        yield
    finally:
        _context.reset(token)


def context_value(name: str) -> str | None:
    """The value of context field ``name`` bound here (e.g. the current ``request_id``)."""
    return _context.get().get(name)


def current_request_id() -> str | None:
    """The id of the API request (or of the request that created the job) being served."""
    return context_value("request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the fields described in the module docstring."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get())
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["exception"] = type(error).__name__
            entry["exception_message"] = str(error)
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, default=str)


class _JsonHandler(logging.StreamHandler[TextIO]):
    """Writes to ``stream``, or to whatever ``sys.stderr`` is at the time of each line."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self._follows_stderr = stream is None
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        if self._follows_stderr:
            self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (stderr by default) for every logger, at ``level``.

    Replaces the root logger's handlers. uvicorn's loggers propagate to ours (its access
    log is off: the API writes its own); chatty libraries log warnings and above only.
    """
    if level.upper() not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    handler = _JsonHandler(stream)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


__all__ = [
    "CONTEXT_FIELDS",
    "LEVELS",
    "JsonFormatter",
    "configure_logging",
    "context_value",
    "current_request_id",
    "log_context",
]
