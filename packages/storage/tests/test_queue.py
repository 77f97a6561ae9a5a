"""JobQueue against moto's SQS over HTTP: envelopes, DLQ, redrive, purge, heartbeat."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from counterpromo_storage.clients import sqs_client
from counterpromo_storage.provision import ProvisionedEnv
from counterpromo_storage.queue import (
    REDRIVEN_FROM,
    REQUEST_ID_ATTRIBUTE,
    Heartbeat,
    JobEnvelope,
    JobQueue,
    ReceivedMessage,
    backoff_visibility,
    request_id_of,
)


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "job_id": str(uuid.uuid4()),
        "type": "render_promo",
        "account_id": str(uuid.uuid4()),
        "attempt": 1,
        **extra,
    }


@pytest.fixture
def queue(provisioned_aws: ProvisionedEnv) -> JobQueue:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    return JobQueue(sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url)


def _drain(queue: JobQueue) -> list[ReceivedMessage]:
    """Every visible message of the main queue (kept invisible for a minute)."""
    found: list[ReceivedMessage] = []
    while batch := queue.receive(wait_seconds=0, visibility_timeout=60):
        found.extend(batch)
    return found


def _fail_until_dead_lettered(queue: JobQueue, job_id: str) -> int:
    """Receive and never delete (a handler that keeps failing); count the receives."""
    receives = 0
    for _ in range(20):
        batch = queue.receive(wait_seconds=0, visibility_timeout=0)
        receives += sum(1 for m in batch if m.body is not None and str(m.body.job_id) == job_id)
        if not batch:
            break
    return receives


def test_send_and_receive_a_validated_envelope(queue: JobQueue) -> None:
    body = _body(promo_id=str(uuid.uuid4()), branch_pack=True)
    message_id = queue.send(body)
    [message] = queue.receive(wait_seconds=0)
    assert message.message_id == message_id
    assert message.error is None
    assert message.receive_count == 1
    assert isinstance(message.body, JobEnvelope)
    assert str(message.body.job_id) == body["job_id"]
    assert message.body.type == "render_promo"
    assert message.body.model_extra == {"promo_id": body["promo_id"], "branch_pack": True}
    queue.delete(message.receipt_handle)
    assert queue.receive(wait_seconds=0) == []


def test_send_batch_sends_in_tens_and_reports_nothing_failed(queue: JobQueue) -> None:
    bodies = [_body() for _ in range(13)]
    assert queue.send_batch(bodies) == []
    received = _drain(queue)
    assert sorted(str(m.body.job_id) for m in received if m.body) == sorted(
        b["job_id"] for b in bodies
    )


def test_a_request_id_rides_in_the_body_and_as_an_attribute(queue: JobQueue) -> None:
    traced = _body(request_id="req-0123456789")
    queue.send_batch([traced, _body()])
    queue.send(_body(request_id="req-single-send"))
    received = {str(m.body.job_id): m for m in _drain(queue) if m.body}
    first = received[traced["job_id"]]
    assert first.attributes[REQUEST_ID_ATTRIBUTE] == "req-0123456789"
    assert first.body is not None
    assert request_id_of(first.body) == "req-0123456789"
    untraced = [m for m in received.values() if REQUEST_ID_ATTRIBUTE not in m.attributes]
    assert len(untraced) == 1
    assert untraced[0].body is not None
    assert request_id_of(untraced[0].body) is None
    singles = [m for m in received.values() if m.attributes.get(REQUEST_ID_ATTRIBUTE)]
    assert {m.attributes[REQUEST_ID_ATTRIBUTE] for m in singles} == {
        "req-0123456789",
        "req-single-send",
    }


def test_send_batch_returns_the_job_ids_not_sent(queue: JobQueue) -> None:
    # The first batch of ten is over SQS's request size limit and is refused as a whole.
    bodies = [_body(padding="x" * 1_100_000), *(_body() for _ in range(10))]
    failed = queue.send_batch(bodies)
    assert failed == [b["job_id"] for b in bodies[:10]]
    [sent] = _drain(queue)
    assert sent.body is not None
    assert str(sent.body.job_id) == bodies[10]["job_id"]


def test_invalid_body_is_refused_before_anything_is_sent(queue: JobQueue) -> None:
    with pytest.raises(ValueError, match="job message 1 is invalid"):
        queue.send_batch([_body(), {"type": "render_promo"}])
    with pytest.raises(ValueError, match="job_id"):
        queue.send({"type": "x", "account_id": str(uuid.uuid4()), "attempt": 1})
    assert queue.receive(wait_seconds=0) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json at all", "Invalid JSON"),
        ('{"type": "render_promo", "attempt": 1}', "job_id"),
        ('{"job_id": "nope", "type": "x", "account_id": "also-nope", "attempt": 0}', "attempt"),
    ],
)
def test_malformed_message_is_reported_by_receive(
    queue: JobQueue, provisioned_aws: ProvisionedEnv, raw: str, reason: str
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    sqs.send_message(QueueUrl=provisioned_aws.jobs_queue_url, MessageBody=raw)
    [message] = queue.receive(wait_seconds=0)
    assert message.body is None
    assert message.raw_body == raw
    assert message.error is not None
    assert message.error.startswith("malformed job message")
    assert reason in message.error


def test_failing_message_lands_in_dlq_after_max_receive_count(queue: JobQueue) -> None:
    body = _body()
    queue.send(body)
    assert _fail_until_dead_lettered(queue, body["job_id"]) == 5
    assert queue.approximate_depth() == 0
    [dead] = queue.dlq_peek()
    assert dead.body is not None
    assert str(dead.body.job_id) == body["job_id"]
    # peeking hands the message back: it is still there
    assert [m.message_id for m in queue.dlq_peek()] == [dead.message_id]


def test_redrive_brings_it_back_exactly_once_even_when_run_twice(queue: JobQueue) -> None:
    body = _body()
    queue.send(body)
    _fail_until_dead_lettered(queue, body["job_id"])
    [dead] = queue.dlq_peek()

    first = queue.dlq_redrive(wait_seconds=0)
    second = queue.dlq_redrive(wait_seconds=0)

    assert (first.moved, first.already_moved, first.failed) == (1, 0, 0)
    assert (second.moved, second.already_moved, second.failed) == (0, 0, 0)
    back = _drain(queue)
    assert len(back) == 1
    assert back[0].body is not None
    assert str(back[0].body.job_id) == body["job_id"]
    assert back[0].attributes[REDRIVEN_FROM] == dead.message_id
    assert queue.dlq_peek() == []


def test_redrive_does_not_resend_a_message_an_earlier_run_already_sent(
    provisioned_aws: ProvisionedEnv,
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    plain = JobQueue(sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url)
    sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody='{"job": "x"}')
    [dead] = plain.dlq_peek()
    # An earlier run sent this message back but crashed before deleting it from the DLQ.
    ledger = {dead.message_id}
    queue = JobQueue(
        sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url, ledger=ledger
    )
    result = queue.dlq_redrive(wait_seconds=0)
    assert (result.moved, result.already_moved) == (0, 1)
    assert queue.dlq_peek() == []
    assert _drain(queue) == []


def test_redrive_moves_many_in_batches_and_keeps_bad_bodies_intact(
    queue: JobQueue, provisioned_aws: ProvisionedEnv
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    raws = [f'{{"n": {n}}}' for n in range(23)]
    for raw in raws:
        sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=raw)
    result = queue.dlq_redrive(wait_seconds=0)
    assert result.moved == 23
    assert sorted(m.raw_body for m in _drain(queue)) == sorted(raws)


def test_redrive_stops_at_max_messages(queue: JobQueue, provisioned_aws: ProvisionedEnv) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    for n in range(5):
        sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=str(n))
    assert queue.dlq_redrive(max_messages=3, wait_seconds=0).moved == 3
    assert len(_drain(queue)) == 3


def test_max_messages_counts_the_ones_an_earlier_run_already_sent(
    provisioned_aws: ProvisionedEnv,
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    plain = JobQueue(sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url)
    for n in range(3):
        sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=str(n))
    ledger = {m.message_id for m in plain.dlq_peek()}
    assert len(ledger) == 3
    queue = JobQueue(
        sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url, ledger=ledger
    )
    result = queue.dlq_redrive(max_messages=2, wait_seconds=0)
    assert (result.moved, result.already_moved, result.failed) == (0, 2, 0)
    assert len(queue.dlq_peek()) == 1
    assert _drain(queue) == []


def test_redrive_records_what_it_sent_in_the_callers_ledger(
    provisioned_aws: ProvisionedEnv,
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    for n in range(3):
        sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=str(n))
    dead = {
        m.message_id
        for m in JobQueue(
            sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url
        ).dlq_peek()
    }
    # The ledger a caller keeps between runs (so a run whose delete failed never resends).
    ledger: set[str] = set()
    queue = JobQueue(
        sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url, ledger=ledger
    )
    assert queue.dlq_redrive(wait_seconds=0).moved == 3
    assert ledger == dead


def test_redrive_that_cannot_send_stops_and_leaves_every_message_in_the_dlq(
    provisioned_aws: ProvisionedEnv,
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    for n in range(3):
        sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=str(n))
    ledger: set[str] = set()
    broken = JobQueue(
        sqs, provisioned_aws.jobs_queue_url + "-gone", provisioned_aws.jobs_dlq_url, ledger=ledger
    )
    # Room for more than three: a run that went on after the failure would count them again.
    result = broken.dlq_redrive(max_messages=10, wait_seconds=0)
    assert (result.moved, result.already_moved, result.failed) == (0, 0, 3)
    assert ledger == set()
    left = broken.dlq_peek(max_messages=10)  # handed back visible at once
    assert sorted(m.raw_body for m in left) == ["0", "1", "2"]
    assert all(m.receive_count == 2 for m in left)


@pytest.mark.parametrize("sent_earlier", [False, True], ids=["fresh", "sent-earlier"])
def test_max_messages_holds_across_batches(
    provisioned_aws: ProvisionedEnv, *, sent_earlier: bool
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    for n in range(12):
        sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=str(n))
    plain = JobQueue(sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url)
    ledger = {m.message_id for m in plain.dlq_peek(max_messages=20)} if sent_earlier else set()
    queue = JobQueue(
        sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url, ledger=ledger
    )
    # Eleven of twelve: a batch of ten, then a batch of one.
    result = queue.dlq_redrive(max_messages=11, wait_seconds=0)
    expected = (0, 11, 0) if sent_earlier else (11, 0, 0)
    assert (result.moved, result.already_moved, result.failed) == expected
    assert len(queue.dlq_peek(max_messages=20)) == 1
    assert len(_drain(queue)) == (0 if sent_earlier else 11)


def _dead_letters(provisioned_aws: ProvisionedEnv, n: int) -> list[dict[str, Any]]:
    """``n`` job messages put straight into the DLQ (with an attribute to keep)."""
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    bodies = [_body(n=n) for n in range(n)]
    for body in bodies:
        sqs.send_message(
            QueueUrl=provisioned_aws.jobs_dlq_url,
            MessageBody=json.dumps(body),
            MessageAttributes={"origin": {"DataType": "String", "StringValue": body["job_id"]}},
        )
    return bodies


def test_redrive_one_moves_only_the_chosen_message_with_its_origin(
    queue: JobQueue, provisioned_aws: ProvisionedEnv
) -> None:
    bodies = _dead_letters(provisioned_aws, 14)
    dead = {str(m.body.job_id): m for m in queue.dlq_peek(max_messages=20) if m.body}
    chosen = dead[bodies[12]["job_id"]]

    moved = queue.dlq_redrive_one(chosen.message_id)

    assert moved is not None
    assert not moved.already_moved
    assert moved.message.message_id == chosen.message_id
    [back] = _drain(queue)
    assert back.raw_body == chosen.raw_body  # the body unchanged, not re-serialised
    assert back.attributes == {"origin": bodies[12]["job_id"], REDRIVEN_FROM: chosen.message_id}
    # the others are all still there, and visible at once
    left = queue.dlq_peek(max_messages=20)
    others = {m.message_id for m in dead.values()} - {chosen.message_id}
    assert {m.message_id for m in left} == others
    assert len(left) == 13


def test_redrive_one_finds_a_message_by_its_job_id(
    queue: JobQueue, provisioned_aws: ProvisionedEnv
) -> None:
    bodies = _dead_letters(provisioned_aws, 3)
    moved = queue.dlq_redrive_one(bodies[1]["job_id"])
    assert moved is not None
    assert moved.message.body is not None
    assert str(moved.message.body.job_id) == bodies[1]["job_id"]
    assert [str(m.body.job_id) for m in _drain(queue) if m.body] == [bodies[1]["job_id"]]
    assert len(queue.dlq_peek()) == 2


def test_redrive_one_of_an_absent_id_changes_nothing(
    queue: JobQueue, provisioned_aws: ProvisionedEnv
) -> None:
    _dead_letters(provisioned_aws, 12)
    assert queue.dlq_redrive_one(str(uuid.uuid4())) is None
    assert queue.dlq_find("nope") is None
    assert len(queue.dlq_peek(max_messages=20)) == 12  # every one handed back visible
    assert _drain(queue) == []


def test_redrive_one_does_not_resend_what_an_earlier_call_sent(
    provisioned_aws: ProvisionedEnv,
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    [body] = _dead_letters(provisioned_aws, 1)
    plain = JobQueue(sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url)
    [dead] = plain.dlq_peek()
    # An earlier redrive sent this message back but failed to delete it from the DLQ.
    queue = JobQueue(
        sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url, ledger={dead.message_id}
    )
    moved = queue.dlq_redrive_one(body["job_id"])
    assert moved is not None
    assert moved.already_moved
    assert queue.dlq_peek() == []
    assert _drain(queue) == []


def test_redrive_one_that_cannot_send_leaves_the_message_visible(
    provisioned_aws: ProvisionedEnv,
) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    [body] = _dead_letters(provisioned_aws, 1)
    missing_queue = provisioned_aws.jobs_queue_url + "-gone"
    broken = JobQueue(sqs, missing_queue, provisioned_aws.jobs_dlq_url)
    with pytest.raises(ClientError):
        broken.dlq_redrive_one(body["job_id"])
    found = broken.dlq_find(body["job_id"], hold_seconds=60)
    assert found is not None  # visible at once, not hidden for the hold
    assert found.receive_count == 2
    assert found.body is not None
    assert str(found.body.job_id) == body["job_id"]
    assert len(broken.dlq_peek()) == 1


def test_purge_empties_the_dlq(queue: JobQueue, provisioned_aws: ProvisionedEnv) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    for n in range(3):
        sqs.send_message(QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=str(n))
    assert queue.dlq_purge() == 3
    assert queue.dlq_peek() == []
    assert queue.approximate_depth(dlq=True) == 0


def test_heartbeat_keeps_the_message_hidden_while_work_runs_then_stops(
    queue: JobQueue,
) -> None:
    queue.send(_body())
    [message] = queue.receive(wait_seconds=0, visibility_timeout=2)
    # Beats well inside the 2 s window, so a loaded machine does not let the message slip.
    with Heartbeat(queue, message.receipt_handle, visibility=2, interval=0.2) as heartbeat:
        time.sleep(2.6)  # past the original visibility timeout
        assert queue.receive(wait_seconds=0) == []
    beats = heartbeat.beats
    assert beats >= 5
    assert heartbeat.error is None
    time.sleep(2.3)  # no more extensions: the message comes back
    assert heartbeat.beats == beats
    [again] = queue.receive(wait_seconds=0)
    assert again.message_id == message.message_id


def test_heartbeat_stops_and_reports_when_the_message_is_gone(queue: JobQueue) -> None:
    queue.send(_body())
    [message] = queue.receive(wait_seconds=0, visibility_timeout=30)
    queue.delete(message.receipt_handle)
    heartbeat = Heartbeat(queue, message.receipt_handle, visibility=30, interval=0.05).start()
    deadline = time.monotonic() + 5
    while heartbeat.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    heartbeat.stop()
    assert heartbeat.error is not None


def _ceiling() -> float:
    return 1.0


def test_backoff_ceiling_is_exponential_and_capped() -> None:
    top = [backoff_visibility(n, jitter=_ceiling) for n in range(1, 7)]
    assert top == [30, 60, 120, 240, 480, 900]
    assert backoff_visibility(50, jitter=_ceiling) == 900
    assert backoff_visibility(0, jitter=_ceiling) == 30
    assert backoff_visibility(3, base=5, cap=15, jitter=_ceiling) == 15
    assert backoff_visibility(4, jitter=lambda: 0.5) == 180
    assert backoff_visibility(4, jitter=lambda: 0.0) == 120


def test_backoff_has_equal_jitter_under_the_ceiling() -> None:
    delays = [backoff_visibility(6) for _ in range(500)]
    # Never under half the ceiling: a message's tries cannot all land inside a short outage.
    assert all(450 <= d <= 900 for d in delays)
    # Spread over the upper half, not one value: failures of one outage come back apart.
    assert len(set(delays)) > 100
    assert min(delays) < 550
    assert max(delays) > 800


def test_receive_refuses_more_than_ten(queue: JobQueue) -> None:
    with pytest.raises(ValueError, match=r"1\.\.10"):
        queue.receive(max_messages=11, wait_seconds=0)
