"""The outbox sweeper: sends job messages that were written but never reached SQS.

The API sends a job's message right after its transaction commits; when SQS (or
the process) fails at that moment the message stays in ``outbox_messages``.
Every worker runs this sweeper, so those jobs are sent once the queue is back.
Many sweepers at once are safe: core's ``dispatch_outbox`` claims rows with
``FOR UPDATE SKIP LOCKED``.

The sweeper also does the idempotency-key housekeeping: at most once every
``prune_interval`` (10 min) it deletes keys past their 24 h retention with core's
``idempotency.prune_expired``. A failure there is logged and tried again at the
next interval; it never stops the sweeper.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from counterpromo_core import idempotency, jobs
from counterpromo_core.ports import Clock, JobQueue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger("counterpromo_worker.outbox")

PRUNE_INTERVAL = dt.timedelta(minutes=10)


class OutboxSweeper:
    def __init__(
        self,
        *,
        sessions: Callable[[], Session],
        queue: JobQueue,
        clock: Clock,
        interval_seconds: float,
        prune_interval: dt.timedelta = PRUNE_INTERVAL,
    ) -> None:
        self.sessions = sessions
        self.queue = queue
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.prune_interval = prune_interval
        self._next_prune: dt.datetime | None = None  # None: prune on the first sweep
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> int:
        """Send what is waiting; a database or queue outage is logged and retried next time.

        Also prunes expired idempotency keys when ``prune_interval`` has passed.
        """
        self.prune_if_due()
        try:
            sent = jobs.dispatch_outbox(self.sessions, self.queue, clock=self.clock)
        except (SQLAlchemyError, BotoCoreError, ClientError) as error:
            log.warning("outbox sweep failed, will retry: %s", type(error).__name__)
            return 0
        if sent:
            log.info("outbox sweep sent messages", extra={"count": sent})
        return sent

    def prune_if_due(self) -> int | None:
        """Delete expired idempotency keys unless it was tried less than ``prune_interval`` ago.

        Returns how many went, or None when not due or when it failed (logged).
        """
        now = self.clock.now()
        if self._next_prune is not None and now < self._next_prune:
            return None
        self._next_prune = now + self.prune_interval
        try:
            with self.sessions() as session, session.begin():
                pruned = idempotency.prune_expired(session, clock=self.clock)
        except Exception as error:  # housekeeping must never stop the sweeper
            # A database outage is expected and named; anything else gets its traceback.
            log.warning(
                "idempotency key pruning failed, will retry: %s",
                type(error).__name__,
                exc_info=not isinstance(error, SQLAlchemyError),
            )
            return None
        if pruned:
            log.info("expired idempotency keys pruned", extra={"count": pruned})
        return pruned

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
