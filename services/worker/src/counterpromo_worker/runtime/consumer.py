"""The consumer loop: long-poll the jobs queue and run each message in a free slot."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from counterpromo_storage.queue import JobQueue, ReceivedMessage

from counterpromo_worker.liveness import LivenessFile
from counterpromo_worker.runtime.processor import MessageProcessor, hand_back
from counterpromo_worker.runtime.slots import JobSlots

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("counterpromo_worker.consumer")

SQS_MAX_MESSAGES = 10
RECEIVE_ERROR_PAUSE_SECONDS = 5.0


@dataclass(frozen=True)
class ConsumerOptions:
    concurrency: int = 4
    wait_seconds: int = 20
    grace_seconds: float = 25.0


def max_receive_count(sqs: SQSClient, queue_url: str) -> int | None:
    """The queue's redrive ``maxReceiveCount`` (read once at start), ``None`` without a DLQ."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attributes.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        return None
    return int(json.loads(policy)["maxReceiveCount"])


class Consumer:
    """Polls until ``request_stop``, then drains within the grace period.

    Never receives more messages than it has free slots, so no message waits
    in this process while another worker could run it.
    """

    def __init__(
        self,
        *,
        queue: JobQueue,
        processor: MessageProcessor,
        options: ConsumerOptions,
        liveness: LivenessFile | None = None,
    ) -> None:
        self.queue = queue
        self.processor = processor
        self.options = options
        self.liveness = liveness
        self.slots = JobSlots(options.concurrency)
        self._stop = threading.Event()
        self._deadline: float | None = None

    def request_stop(self) -> None:
        """Stop polling and let running jobs finish; asked a second time, stop waiting for them.

        Safe to call from a signal handler.
        """
        now = time.monotonic()
        if self._stop.is_set():
            self._deadline = now
        else:
            self._deadline = now + self.options.grace_seconds
            self._stop.set()

    def run(self) -> None:
        log.info(
            "worker started",
            extra={
                "concurrency": self.options.concurrency,
                "wait_seconds": self.options.wait_seconds,
                "max_receive_count": self.processor.retry.max_receive_count,
            },
        )
        while not self._stop.is_set():
            self._touch_liveness()
            if not self.slots.wait_for_free(timeout=1.0):
                continue
            messages = self._receive(min(SQS_MAX_MESSAGES, self.slots.free()))
            for index, message in enumerate(messages):
                if self._stop.is_set():
                    self._hand_back_unstarted(messages[index:])
                    break
                self._start(message)
        self._drain()

    def _receive(self, count: int) -> list[ReceivedMessage]:
        try:
            return self.queue.receive(max_messages=count, wait_seconds=self.options.wait_seconds)
        except (BotoCoreError, ClientError):
            log.exception("could not receive from the jobs queue")
            self._stop.wait(RECEIVE_ERROR_PAUSE_SECONDS)
            return []

    def _start(self, message: ReceivedMessage) -> None:
        self.slots.start(f"job-{message.message_id}", lambda: self.processor.process(message))

    def _hand_back_unstarted(self, messages: list[ReceivedMessage]) -> None:
        for message in messages:
            hand_back(self.queue, message.receipt_handle)
        log.info("handed back unstarted messages", extra={"count": len(messages)})

    def _remaining_grace(self) -> float:
        deadline = self._deadline if self._deadline is not None else time.monotonic()
        return deadline - time.monotonic()

    def _drain(self) -> None:
        busy = self.slots.busy()
        if busy:
            log.info("waiting for running jobs", extra={"running": busy})
        while not self.slots.wait_idle(min(1.0, self._remaining_grace())):
            self._touch_liveness()
            if self._remaining_grace() <= 0:
                handed_back = self.processor.hand_back_running()
                log.warning(
                    "grace period over: handed back running jobs", extra={"count": handed_back}
                )
                break
        log.info("worker stopped")

    def _touch_liveness(self) -> None:
        if self.liveness is None:
            return
        try:
            self.liveness.touch()
        except OSError:
            log.warning("could not touch the liveness file", exc_info=True)
