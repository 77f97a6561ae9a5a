"""The outbox sweeper: sends job messages that were written but never reached SQS.

The API sends a job's message right after its transaction commits; when SQS (or
the process) fails at that moment the message stays in ``outbox_messages``.
Every worker runs this sweeper, so those jobs are sent once the queue is back.
Many sweepers at once are safe: core's ``dispatch_outbox`` claims rows with
``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from counterpromo_core import jobs
from counterpromo_core.ports import Clock, JobQueue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger("counterpromo_worker.outbox")


class OutboxSweeper:
    def __init__(
        self,
        *,
        sessions: Callable[[], Session],
        queue: JobQueue,
        clock: Clock,
        interval_seconds: float,
    ) -> None:
        self.sessions = sessions
        self.queue = queue
        self.clock = clock
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> int:
        """Send what is waiting; a database or queue outage is logged and retried next time."""
        try:
            sent = jobs.dispatch_outbox(self.sessions, self.queue, clock=self.clock)
        except (SQLAlchemyError, BotoCoreError, ClientError) as error:
            log.warning("outbox sweep failed, will retry: %s", type(error).__name__)
            return 0
        if sent:
            log.info("outbox sweep sent messages", extra={"count": sent})
        return sent

    def start(self) -> None:
        if self.interval_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="outbox-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            self.sweep_once()
