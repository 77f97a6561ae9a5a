"""Logging of the API: core's shared JSON setup (``counterpromo_core.logging_setup``).

The request id is bound to the log context by ``RequestContextMiddleware`` for the whole
request (including its background tasks and the threadpool), so every line carries it.
"""

from __future__ import annotations

from typing import Any

from counterpromo_core.logging_setup import configure_logging, current_request_id, log_context

__all__ = ["configure_logging", "current_request_id", "log_config", "log_context"]


def log_config() -> dict[str, Any]:
    """uvicorn's ``log_config``: keep its loggers unconfigured so ours apply."""
    return {"version": 1, "disable_existing_loggers": False}
