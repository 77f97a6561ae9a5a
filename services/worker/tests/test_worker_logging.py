"""Every worker log line of a job names the job and the API request that created it."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from counterpromo_core import jobs
from counterpromo_core.logging_setup import JsonFormatter, log_context
from counterpromo_core.ports import SystemClock
from counterpromo_storage.queue import REQUEST_ID_ATTRIBUTE, JobQueue
from counterpromo_worker.handlers import default_registry
from counterpromo_worker.runtime.context import JobContext
from counterpromo_worker.runtime.errors import PermanentJobError
from sqlalchemy.orm import Session, sessionmaker

REQUEST_ID = "req-0123456789abcdef"


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines the process logs during the test (core's formatter, INFO and up)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_every_log_line_of_a_job_carries_its_request_id(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    queue: JobQueue,
    start_worker: Callable[..., object],
    wait_until: Callable[..., Any],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    runs: list[int] = []

    def twice(ctx: JobContext) -> None:
        logging.getLogger("counterpromo_worker.test").info("working on it")
        runs.append(ctx.receive_count)
        if len(runs) == 1:
            raise ConnectionError("the database went away")
        raise PermanentJobError("the file is not a price list")

    registry = default_registry()
    registry.register("coop_report", twice)
    account_id = make_account()
    with sessions.begin() as session, log_context(request_id=REQUEST_ID):
        job = jobs.create_job(session, account_id, type="coop_report", promo_id=None, payload={})
    assert job.request_id == REQUEST_ID
    jobs.dispatch_jobs(sessions, queue, [job.id], clock=SystemClock())
    # The message carries it in its body and as an attribute.
    peeked = queue.receive(max_messages=1, wait_seconds=1)
    assert len(peeked) == 1
    assert peeked[0].attributes[REQUEST_ID_ATTRIBUTE] == REQUEST_ID
    assert json.loads(peeked[0].raw_body)["request_id"] == REQUEST_ID
    queue.change_visibility(peeked[0].receipt_handle, 0)

    start_worker(registry)
    wait_until(
        lambda: any(line.get("outcome") == "failed" for line in log_lines()),
        what="the job's final log line",
    )

    of_job = [line for line in log_lines() if line.get("job_id") == str(job.id)]
    messages = [line["message"] for line in of_job]
    assert messages.count("working on it") == 2
    assert "job retry" in messages
    assert "job failed" in messages
    assert {line["request_id"] for line in of_job} == {REQUEST_ID}
    assert {(line["type"], line["account_id"]) for line in of_job} == {
        ("coop_report", str(account_id))
    }
    assert all(line["level"] in ("info", "warning", "error") for line in of_job)
    transient = next(line for line in of_job if line["message"].startswith("transient failure"))
    assert transient["exception"] == "ConnectionError"
    assert "Traceback (most recent call last)" in transient["traceback"]
    assert "the database went away" in transient["traceback"]
