"""Logging of the worker: core's shared JSON setup (``counterpromo_core.logging_setup``).

While a job runs, ``MessageProcessor`` binds ``job_id``, ``type``, ``account_id`` and the
``request_id`` of the API request that created the job, so every line of that job carries
them.
"""

from __future__ import annotations

from counterpromo_core.logging_setup import JsonFormatter, configure_logging, log_context

__all__ = ["JsonFormatter", "configure_logging", "log_context"]
