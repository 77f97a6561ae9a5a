"""Take one chosen message out of the dead-letter queue.

SQS cannot fetch a message by id: receive the DLQ in batches (hidden for a
while), keep the one wanted, and hand the others back visible at once.
"""

from typing import TYPE_CHECKING

from counterpromo_storage.queue import ReceivedMessage, parse_message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_BATCH = 10


def _matches(message: ReceivedMessage, wanted: str) -> bool:
    job_id = str(message.body.job_id) if message.body is not None else None
    return wanted in (message.message_id, job_id)


def take(
    sqs: "SQSClient", dlq_url: str, wanted: str, *, hold_seconds: int = 30
) -> ReceivedMessage | None:
    """The DLQ message whose message id or job id is ``wanted``, received and still hidden."""
    seen: set[str] = set()
    found: ReceivedMessage | None = None
    others: list[ReceivedMessage] = []
    while found is None:
        response = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=_BATCH,
            WaitTimeSeconds=0,
            VisibilityTimeout=hold_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        batch = [parse_message(m) for m in response.get("Messages", [])]
        fresh = [m for m in batch if m.message_id not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message.message_id)
            if found is None and _matches(message, wanted):
                found = message
            else:
                others.append(message)
    for message in others:
        sqs.change_message_visibility(
            QueueUrl=dlq_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )
    return found
