"""``counterpromo-worker``: long-poll the jobs queue and run the job handlers until told to stop."""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import pydantic
from counterpromo_core.heap import freeze_startup_heap
from counterpromo_storage.config import ConfigurationError, load_config

from counterpromo_worker import __version__
from counterpromo_worker.handlers import default_registry
from counterpromo_worker.runtime.assembly import build_worker
from counterpromo_worker.runtime.logs import configure_logging
from counterpromo_worker.runtime.registry import HandlerRegistry
from counterpromo_worker.settings import WorkerSettings

log = logging.getLogger("counterpromo_worker")

EXIT_CONFIGURATION = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="counterpromo-worker",
        description=(
            "Run Counter Promo jobs from the SQS jobs queue. Where the queue, buckets and "
            "database are comes from COUNTERPROMO_ENV (SSM and Secrets Manager under "
            "/counterpromo/{env}/), overridden by DATABASE_URL, JOBS_QUEUE_URL and the other "
            "environment variables; COUNTERPROMO_WORKER_* set the defaults of the options below. "
            "SIGTERM or SIGINT stops polling and lets running jobs finish within the grace "
            "period; a second signal stops waiting."
        ),
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--concurrency",
        type=int,
        help="jobs run at once (default 4, or COUNTERPROMO_WORKER_CONCURRENCY)",
    )
    parser.add_argument(
        "--grace-seconds",
        type=float,
        help="after SIGTERM, how long running jobs may take to finish (default 25)",
    )
    parser.add_argument(
        "--liveness-file",
        type=Path,
        help="a file touched on every poll, for the container health check",
    )
    return parser


def _settings(args: argparse.Namespace) -> WorkerSettings:
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("concurrency", args.concurrency),
            ("grace_seconds", args.grace_seconds),
            ("liveness_file", args.liveness_file),
        )
        if value is not None
    }
    return WorkerSettings(**given)


def main(argv: Sequence[str] | None = None, *, registry: HandlerRegistry | None = None) -> int:
    """Run the worker; returns the process exit code (0 after a clean shutdown).

    ``registry`` replaces the production handlers (tools and system tests use it).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except pydantic.ValidationError as error:
        parser.error(str(error))
    configure_logging(settings.log_level)
    try:
        config = load_config()
    except ConfigurationError as error:
        log.error("cannot start: %s", error)  # noqa: TRY400 - the message says it all
        return EXIT_CONFIGURATION
    worker = build_worker(config, settings, registry or default_registry())

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        worker.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    freeze_startup_heap()
    worker.run()
    return 0
