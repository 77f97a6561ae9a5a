"""Settled messages are deleted in batches off the job's slot, and none is left behind."""

from __future__ import annotations

from collections.abc import Callable

from counterpromo_storage.queue import JobQueue
from counterpromo_worker.runtime.deletes import BatchDeleter


def _received_handles(queue: JobQueue, count: int) -> list[str]:
    for n in range(count):
        queue.send(
            {
                "job_id": f"00000000-0000-0000-0000-{n:012d}",
                "type": "noop",
                "account_id": "00000000-0000-0000-0000-000000000000",
                "attempt": 1,
            }
        )
    handles: list[str] = []
    while len(handles) < count:
        handles += [m.receipt_handle for m in queue.receive(max_messages=10, wait_seconds=1)]
    return handles


def test_queue_delete_batch_deletes_more_than_ten(
    queue: JobQueue, counts: Callable[[str], tuple[int, int]]
) -> None:
    handles = _received_handles(queue, 13)
    assert counts(queue.queue_url) == (0, 13)
    assert queue.delete_batch(handles) == []
    assert counts(queue.queue_url) == (0, 0)


def test_the_deleter_deletes_everything_it_was_given_by_stop(
    queue: JobQueue, counts: Callable[[str], tuple[int, int]]
) -> None:
    handles = _received_handles(queue, 23)
    deleter = BatchDeleter(queue, linger_seconds=0.5).start()
    for handle in handles:
        deleter.delete(handle)
    deleter.stop()
    assert counts(queue.queue_url) == (0, 0)
    # After stop, a delete is sent at once, in the caller's thread.
    [late] = _received_handles(queue, 1)
    deleter.delete(late)
    assert counts(queue.queue_url) == (0, 0)


def test_a_handle_sqs_refuses_does_not_stop_the_deleter(
    queue: JobQueue, counts: Callable[[str], tuple[int, int]]
) -> None:
    handles = _received_handles(queue, 3)
    deleter = BatchDeleter(queue, linger_seconds=0.01).start()
    deleter.delete("not-a-receipt-handle")
    for handle in handles:
        deleter.delete(handle)
    deleter.stop()
    assert counts(queue.queue_url) == (0, 0)
