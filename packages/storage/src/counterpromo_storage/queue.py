"""The SQS jobs queue: envelope validation, send/receive, heartbeat, backoff and DLQ tools.

A message body is a ``JobEnvelope`` (``job_id``, ``type``, ``account_id``, ``attempt``
plus type-specific fields). ``receive`` never raises on a bad body: the message comes back
with ``body=None`` and ``error`` saying what is wrong, so a consumer can log and drop it.
"""

from __future__ import annotations

import contextvars
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        MessageAttributeValueOutputTypeDef,
        MessageAttributeValueTypeDef,
        MessageTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

    from counterpromo_storage.settings import AppConfig

SQS_BATCH = 10
MAX_VISIBILITY = 12 * 3600  # SQS's limit
# Bounds the shift of the backoff (a huge receive count); any value whose ceiling passes
# MAX_VISIBILITY gives the same delays.
_MAX_EXPONENT = 30
REDRIVEN_FROM = "counterpromo-redriven-from"
# The X-Request-Id of the API request that created the job (also ``request_id`` in the body).
REQUEST_ID_ATTRIBUTE = "counterpromo-request-id"


class JobEnvelope(BaseModel):
    """The common part of every job message; type-specific fields ride along as extras."""

    model_config = ConfigDict(extra="allow", frozen=True)

    job_id: uuid.UUID
    type: str = Field(min_length=1)
    account_id: uuid.UUID
    attempt: int = Field(ge=1)


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: JobEnvelope | None  # None when the body is malformed: see ``error``
    raw_body: str
    receive_count: int
    error: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RedriveResult:
    moved: int  # sent back to the main queue and deleted from the DLQ
    already_moved: int  # sent by an earlier run but still in the DLQ: deleted, not re-sent
    failed: int  # could not be sent; left in the DLQ for the next run


@dataclass(frozen=True)
class RedrivenMessage:
    message: ReceivedMessage  # the DLQ message, as it was in the DLQ
    already_moved: bool  # an earlier call sent it back but did not delete it: only deleted now


class RedriveLedger(Protocol):
    """Remembers which DLQ message ids were already sent back to the main queue."""

    def __contains__(self, message_id: object) -> bool: ...
    def add(self, message_id: str) -> None: ...


def backoff_visibility(
    receive_count: int,
    *,
    base: int = 30,
    cap: int = 900,
    jitter: Callable[[], float] = random.random,
) -> int:
    """Seconds to keep a failed message hidden before its next try, with equal jitter.

    The ceiling doubles from ``base`` on each receive (``base * 2^(n-1)``, at most ``cap``);
    the delay is half the ceiling plus a uniformly random part of the other half
    (``jitter()`` in ``[0, 1)``), so messages that failed together (an outage) do not all
    come back at the same moment, and the retries of one message still span at least half
    the doubling schedule: with full jitter (0 to the ceiling) all of a message's tries could
    land within a short outage and send it to the DLQ. The one backoff of the project: the
    worker's retries use it.
    """
    exponent = min(max(receive_count, 1) - 1, _MAX_EXPONENT)
    ceiling = min(base * (1 << exponent), cap, MAX_VISIBILITY)
    half = ceiling / 2
    return min(ceiling, round(half + half * jitter()))


def _validation_summary(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "body"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def parse_message(message: MessageTypeDef) -> ReceivedMessage:
    """A received SQS message with its validated envelope, or the reason it is malformed."""
    raw = message.get("Body", "")
    body: JobEnvelope | None = None
    error: str | None = None
    try:
        body = JobEnvelope.model_validate_json(raw)
    except ValidationError as invalid:
        error = f"malformed job message: {_validation_summary(invalid)}"
    attributes = {
        name: value["StringValue"]
        for name, value in message.get("MessageAttributes", {}).items()
        if "StringValue" in value
    }
    return ReceivedMessage(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=body,
        raw_body=raw,
        receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
        error=error,
        attributes=attributes,
    )


def _copy_attribute(value: MessageAttributeValueOutputTypeDef) -> MessageAttributeValueTypeDef:
    copy: MessageAttributeValueTypeDef = {"DataType": value["DataType"]}
    if "StringValue" in value:
        copy["StringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        copy["BinaryValue"] = value["BinaryValue"]
    return copy


def _redrive_entry(index: int, message: MessageTypeDef) -> SendMessageBatchRequestEntryTypeDef:
    """A DLQ message's copy for the main queue: same body and attributes, plus its origin."""
    attributes = {
        name: _copy_attribute(value)
        for name, value in message.get("MessageAttributes", {}).items()
        if name != REDRIVEN_FROM
    }
    attributes[REDRIVEN_FROM] = {"DataType": "String", "StringValue": message["MessageId"]}
    return {"Id": str(index), "MessageBody": message["Body"], "MessageAttributes": attributes}


def _matches(message: MessageTypeDef, wanted: str) -> bool:
    """Is ``wanted`` this message's id, or the job id in its (valid) body?"""
    if message["MessageId"] == wanted:
        return True
    body = parse_message(message).body
    return body is not None and str(body.job_id) == wanted


def _serialize(body: Mapping[str, Any] | JobEnvelope) -> tuple[str, str]:
    """(job id, JSON body) of a valid envelope; raises ValueError for an invalid one."""
    envelope = body if isinstance(body, JobEnvelope) else JobEnvelope.model_validate(dict(body))
    return str(envelope.job_id), envelope.model_dump_json()


def request_id_of(body: Mapping[str, Any] | JobEnvelope) -> str | None:
    """The ``request_id`` a job message carries (the API request that created the job)."""
    extra = (body.model_extra or {}) if isinstance(body, JobEnvelope) else body
    value = extra.get("request_id")
    return value if isinstance(value, str) and value else None


def _attributes(body: Mapping[str, Any] | JobEnvelope) -> dict[str, MessageAttributeValueTypeDef]:
    """The message attributes of a job message: its request id, when it has one."""
    request_id = request_id_of(body)
    if request_id is None:
        return {}
    return {REQUEST_ID_ATTRIBUTE: {"DataType": "String", "StringValue": request_id}}


class JobQueue:
    """The jobs queue and its dead-letter queue."""

    def __init__(
        self,
        sqs_client: SQSClient,
        queue_url: str,
        dlq_url: str | None = None,
        *,
        ledger: RedriveLedger | None = None,
    ) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self._ledger: RedriveLedger = ledger if ledger is not None else set()

    @classmethod
    def from_config(cls, config: AppConfig, sqs_client: SQSClient) -> JobQueue:
        return cls(sqs_client, config.jobs_queue_url, config.jobs_dlq_url)

    # -- producing --------------------------------------------------------------------

    def send(self, body: Mapping[str, Any] | JobEnvelope, *, delay_seconds: int = 0) -> str:
        """Send one job message; returns its SQS message id."""
        _, text = _serialize(body)
        response = self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=text,
            DelaySeconds=delay_seconds,
            MessageAttributes=_attributes(body),
        )
        return response["MessageId"]

    def send_batch(self, bodies: list[dict[str, Any]]) -> list[str]:
        """Send the bodies in batches of 10; return the ``job_id`` of every body NOT sent.

        Every body is validated before anything is sent (ValueError names the bad one).
        """
        serialized = []
        for index, body in enumerate(bodies):
            try:
                serialized.append((*_serialize(body), _attributes(body)))
            except ValueError as error:
                raise ValueError(f"job message {index} is invalid: {error}") from error
        failed: list[str] = []
        for start in range(0, len(serialized), SQS_BATCH):
            chunk = serialized[start : start + SQS_BATCH]
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(i), "MessageBody": text, "MessageAttributes": attributes}
                for i, (_, text, attributes) in enumerate(chunk)
            ]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (ClientError, BotoCoreError):
                failed.extend(job_id for job_id, _, _ in chunk)
                continue
            failed.extend(chunk[int(entry["Id"])][0] for entry in response.get("Failed", []))
        return failed

    # -- consuming --------------------------------------------------------------------

    def receive(
        self,
        max_messages: int = 10,
        wait_seconds: int = 20,
        *,
        visibility_timeout: int | None = None,
    ) -> list[ReceivedMessage]:
        """Long-poll for up to ``max_messages`` (1..10); a bad body comes back with ``error``."""
        return self._receive(self.queue_url, max_messages, wait_seconds, visibility_timeout)

    def delete(self, receipt_handle: str) -> None:
        self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)

    def delete_batch(self, receipt_handles: list[str]) -> list[str]:
        """Delete messages, up to 10 per ``DeleteMessageBatch`` call; the handles SQS did not
        delete (they come back when their visibility runs out)."""
        failed: list[str] = []
        for start in range(0, len(receipt_handles), SQS_BATCH):
            chunk = receipt_handles[start : start + SQS_BATCH]
            response = self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)],
            )
            failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
        return failed

    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        """Hide the message for ``seconds`` from now (0 hands it back at once)."""
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY)),
        )

    def approximate_depth(self, *, dlq: bool = False) -> int:
        """Messages waiting (visible) in the main queue, or in the DLQ."""
        url = self._require_dlq() if dlq else self.queue_url
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", "0"))

    # -- dead-letter queue ------------------------------------------------------------

    def dlq_peek(self, max_messages: int = 10, *, hold_seconds: int = 30) -> list[ReceivedMessage]:
        """Up to ``max_messages`` DLQ messages, each once, handed back visible afterwards."""
        held: list[MessageTypeDef] = []
        for batch in self._dlq_batches(hold_seconds):
            held.extend(batch)
            if len(held) >= max_messages:
                break
        self._release(self._require_dlq(), held)
        return [parse_message(m) for m in held[:max_messages]]

    def dlq_find(self, wanted: str, *, hold_seconds: int = 30) -> ReceivedMessage | None:
        """The DLQ message whose message id, or body's job id, is ``wanted`` (left in the DLQ).

        SQS cannot fetch a message by id: the DLQ is received in batches (each message
        hidden for ``hold_seconds`` at most) until it is found, then all are handed back.
        """
        found = self._dlq_take(wanted, hold_seconds)
        if found is None:
            return None
        self._release(self._require_dlq(), [found])
        return parse_message(found)

    def dlq_redrive_one(
        self,
        wanted: str,
        *,
        hold_seconds: int = 30,  # pragma: no mutate (a timing: the hold while it searches)
    ) -> RedrivenMessage | None:
        """Move one DLQ message (by message id or job id) back to the main queue; None if absent.

        The same rules as ``dlq_redrive``: the body and attributes are kept, the copy carries
        ``counterpromo-redriven-from``, and a message this queue object already sent back
        (its delete failed) is deleted without being sent again. A failed send leaves the
        message visible in the DLQ and raises the boto3 error.
        """
        found = self._dlq_take(wanted, hold_seconds)
        if found is None:
            return None
        dlq = self._require_dlq()
        already = found["MessageId"] in self._ledger
        if not already:
            entry = _redrive_entry(0, found)  # pragma: no mutate (send_message ignores the Id)
            try:
                self._sqs.send_message(
                    QueueUrl=self.queue_url,
                    MessageBody=entry["MessageBody"],
                    MessageAttributes=entry["MessageAttributes"],
                )
            except (ClientError, BotoCoreError):
                self._release(dlq, [found])
                raise
            self._ledger.add(found["MessageId"])
        self._sqs.delete_message(QueueUrl=dlq, ReceiptHandle=found["ReceiptHandle"])
        return RedrivenMessage(message=parse_message(found), already_moved=already)

    def dlq_redrive(
        self,
        *,
        max_messages: int | None = None,
        wait_seconds: int = 1,  # pragma: no mutate (a timing: how long an empty receive waits)
        visibility_timeout: int = 60,  # pragma: no mutate (a timing: the hold while it sends)
    ) -> RedriveResult:
        """Move DLQ messages back to the main queue: receive -> send -> delete, 10 at a time.

        Idempotent by DLQ message id: a message this queue object already sent back (a
        run whose delete failed) is deleted without being sent again. The sent copy
        carries the DLQ message id in the ``counterpromo-redriven-from`` attribute.
        """
        dlq = self._require_dlq()
        moved = already = failed = 0
        # A failed send ends the run (below), so only moved and already-moved ones count here.
        while max_messages is None or moved + already < max_messages:
            limit = SQS_BATCH if max_messages is None else max_messages - moved - already
            batch = self._raw_receive(dlq, min(SQS_BATCH, limit), wait_seconds, visibility_timeout)
            if not batch:
                break
            done = [m for m in batch if m["MessageId"] in self._ledger]
            already += len(done)
            fresh = [m for m in batch if m["MessageId"] not in self._ledger]
            sent, unsent = self._send_copies(fresh)
            for message in sent:
                self._ledger.add(message["MessageId"])
            moved += len(sent)
            failed += len(unsent)
            self._delete_batch(dlq, [*done, *sent])
            if unsent:
                self._release(dlq, unsent)
                break
        return RedriveResult(moved=moved, already_moved=already, failed=failed)

    def dlq_purge(self) -> int:
        """Delete every DLQ message; returns how many there were (approximately)."""
        count = self.approximate_depth(dlq=True)
        self._sqs.purge_queue(QueueUrl=self._require_dlq())
        return count

    # -- internals --------------------------------------------------------------------

    def _require_dlq(self) -> str:
        if not self.dlq_url:
            raise RuntimeError("this JobQueue has no dead-letter queue URL")
        return self.dlq_url

    def _raw_receive(
        self, url: str, max_messages: int, wait_seconds: int, visibility_timeout: int | None
    ) -> list[MessageTypeDef]:
        if not 1 <= max_messages <= SQS_BATCH:
            raise ValueError(f"max_messages must be 1..{SQS_BATCH}")
        extra: dict[str, Any] = {}
        if visibility_timeout is not None:
            extra["VisibilityTimeout"] = visibility_timeout
        response = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
            **extra,
        )
        return list(response.get("Messages", []))

    def _receive(
        self, url: str, max_messages: int, wait_seconds: int, visibility_timeout: int | None
    ) -> list[ReceivedMessage]:
        raw = self._raw_receive(url, max_messages, wait_seconds, visibility_timeout)
        return [parse_message(message) for message in raw]

    def _send_copies(
        self, messages: list[MessageTypeDef]
    ) -> tuple[list[MessageTypeDef], list[MessageTypeDef]]:
        """Send copies of DLQ messages (body unchanged) to the main queue: (sent, not sent)."""
        if not messages:
            return [], []
        entries = [_redrive_entry(index, message) for index, message in enumerate(messages)]
        try:
            response = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (ClientError, BotoCoreError):
            return [], messages
        ok = {int(entry["Id"]) for entry in response.get("Successful", [])}
        return (
            [m for i, m in enumerate(messages) if i in ok],
            [m for i, m in enumerate(messages) if i not in ok],
        )

    def _dlq_batches(self, hold_seconds: int) -> Iterator[list[MessageTypeDef]]:
        """The DLQ's messages in received batches, each message once, hidden ``hold_seconds``.

        Ends when a receive brings nothing new. The caller releases what it does not consume.
        """
        dlq = self._require_dlq()
        seen: set[str] = set()
        while True:
            batch = self._raw_receive(dlq, SQS_BATCH, 0, hold_seconds)
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                return
            seen.update(m["MessageId"] for m in fresh)
            yield fresh

    def _dlq_take(self, wanted: str, hold_seconds: int) -> MessageTypeDef | None:
        """The DLQ message matching ``wanted``, received and still hidden; the rest released."""
        found: MessageTypeDef | None = None
        others: list[MessageTypeDef] = []
        for batch in self._dlq_batches(hold_seconds):
            for message in batch:
                if found is None and _matches(message, wanted):
                    found = message
                else:
                    others.append(message)
            if found is not None:
                break
        self._release(self._require_dlq(), others)
        return found

    def _delete_batch(self, url: str, messages: list[MessageTypeDef]) -> None:
        if messages:
            self._sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    def _release(self, url: str, messages: Iterable[MessageTypeDef]) -> None:
        """Make received messages visible again at once."""
        handles = [m["ReceiptHandle"] for m in messages]
        for start in range(0, len(handles), SQS_BATCH):
            self._sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + SQS_BATCH])
                ],
            )


class Heartbeat:
    """Keeps one in-flight message invisible while work runs (a background thread).

    Every ``interval`` seconds (default a third of ``visibility``) the message is hidden
    for another ``visibility`` seconds. ``stop()`` ends it; so does leaving the ``with``
    block. If an extension fails (receipt handle expired, message deleted), the thread
    stops and ``error`` holds the reason.
    """

    def __init__(
        self,
        queue: JobQueue,
        receipt_handle: str,
        visibility: int,
        *,
        interval: float | None = None,
    ) -> None:
        if visibility < 1:
            raise ValueError("visibility must be at least 1 second")
        self._queue = queue
        self._receipt_handle = receipt_handle
        self._visibility = visibility
        self._interval = interval if interval is not None else max(visibility / 3, 0.5)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.beats = 0
        self.error: Exception | None = None

    def start(self) -> Heartbeat:
        if self._thread is not None:
            raise RuntimeError("heartbeat already started")
        # In a copy of the caller's context: whatever it logs names the caller's job.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run,), name="sqs-heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._queue.change_visibility(self._receipt_handle, self._visibility)
            except (ClientError, BotoCoreError) as error:
                self.error = error
                return
            self.beats += 1
