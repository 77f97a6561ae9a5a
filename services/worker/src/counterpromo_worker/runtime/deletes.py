"""Settled messages deleted in batches, off the job's slot.

A job whose outcome is committed no longer needs its slot while its message is deleted:
``BatchDeleter.delete`` hands the receipt handle to a background thread, which deletes up to
10 at a time with one ``DeleteMessageBatch`` (waiting ``linger_seconds`` for company), so
the slot takes the next message one SQS round trip sooner and busy workers make one call per
10 jobs instead of one per job.

Nothing can be lost by the delay: the job's state is in the database. A message whose delete
never happens (the process dies first, SQS refuses it) comes back when its visibility runs
out, finds its job finished and is deleted then. ``stop`` sends what is pending.
"""

from __future__ import annotations

import logging
import threading

from botocore.exceptions import BotoCoreError, ClientError
from counterpromo_storage.queue import JobQueue

log = logging.getLogger("counterpromo_worker.deletes")

SQS_BATCH = 10


class BatchDeleter:
    def __init__(self, queue: JobQueue, *, linger_seconds: float = 0.02) -> None:
        self.queue = queue
        self.linger_seconds = linger_seconds
        self._pending: list[str] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> BatchDeleter:
        self._thread = threading.Thread(target=self._run, name="sqs-deletes", daemon=True)
        self._thread.start()
        return self

    def delete(self, receipt_handle: str) -> None:
        """Delete this message soon (after ``stop``: now, in the caller's thread)."""
        with self._changed:
            if not self._stopping:
                self._pending.append(receipt_handle)
                self._changed.notify_all()
                return
        self._send([receipt_handle])

    def stop(self, timeout: float = 10.0) -> None:
        """Send every pending delete, then stop the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending) or self._stopping)
                if not self._pending:
                    return  # stopping, and nothing left
                if len(self._pending) < SQS_BATCH and not self._stopping:
                    # Let deletes of jobs finishing at about the same time share the call.
                    self._changed.wait_for(
                        lambda: len(self._pending) >= SQS_BATCH or self._stopping,
                        self.linger_seconds,
                    )
                batch = self._pending[:SQS_BATCH]
                del self._pending[:SQS_BATCH]
            self._send(batch)

    def _send(self, batch: list[str]) -> None:
        try:
            failed = self.queue.delete_batch(batch)
        except (BotoCoreError, ClientError):
            log.warning("could not delete %d settled messages", len(batch), exc_info=True)
            return
        if failed:
            # They come back when their visibility runs out and are deleted then.
            log.warning("SQS did not delete %d settled messages", len(failed))
