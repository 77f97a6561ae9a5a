"""SIGTERM, as ECS sends it: the worker process stops polling, settles its jobs and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from counterpromo_core import work
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker

SLOW_WORKER = Path(__file__).with_name("slow_worker.py")


@pytest.fixture
def launch(config: AppConfig, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start the worker process with slow render jobs; it is killed if a test leaves it running."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*, job_seconds: float, grace: float, concurrency: int) -> subprocess.Popen[bytes]:
        env = os.environ | {
            "SLOW_JOB_SECONDS": str(job_seconds),
            "COUNTERPROMO_WORKER_WAIT_SECONDS": "1",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                str(SLOW_WORKER),
                "--concurrency",
                str(concurrency),
                "--grace-seconds",
                str(grace),
                "--liveness-file",
                str(tmp_path / "alive"),
            ],
            env=env,
            stderr=(tmp_path / "worker.log").open("wb"),
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def request_renders(
    sessions: sessionmaker[Session], account_id: uuid.UUID, promo_id: uuid.UUID, n: int
) -> list[uuid.UUID]:
    with sessions.begin() as session:
        return [
            work.request_render(session, account_id, promo_id, clock=SystemClock()).id
            for _ in range(n)
        ]


def statuses(sessions: sessionmaker[Session], job_ids: list[uuid.UUID]) -> list[str]:
    with sessions() as session:
        return [session.get_one(Job, job_id).status for job_id in job_ids]


def stop_and_time(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=timeout)
    return code, time.monotonic() - started


def test_sigterm_lets_the_running_job_finish_and_hands_back_the_rest(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    launch: Callable[..., subprocess.Popen[bytes]],
    wait_until: Callable[..., object],
    counts: Callable[[str], tuple[int, int]],
    config: AppConfig,
    tmp_path: Path,
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=2)
    [first] = request_renders(sessions, account_id, promo_id, 1)
    dispatch()
    process = launch(job_seconds=3, grace=10, concurrency=2)
    wait_until(lambda: statuses(sessions, [first]) == ["running"], what="the first job to start")
    assert (tmp_path / "alive").exists()

    process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    # Work that arrives while the worker is stopping must not be kept by it.
    later = request_renders(sessions, account_id, promo_id, 2)
    dispatch()
    code = process.wait(timeout=15)

    assert code == 0, (tmp_path / "worker.log").read_text()
    assert time.monotonic() - stopped_at < 10 + 2
    assert statuses(sessions, [first]) == ["succeeded"]
    assert statuses(sessions, later) == ["queued", "queued"]
    assert counts(config.jobs_queue_url) == (2, 0)


def test_sigterm_hands_back_a_job_that_outlives_the_grace_period(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    launch: Callable[..., subprocess.Popen[bytes]],
    wait_until: Callable[..., object],
    counts: Callable[[str], tuple[int, int]],
    config: AppConfig,
    tmp_path: Path,
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=2)
    job_ids = request_renders(sessions, account_id, promo_id, 3)
    dispatch()
    process = launch(job_seconds=60, grace=2, concurrency=1)
    wait_until(lambda: "running" in statuses(sessions, job_ids), what="a job to start")

    code, took = stop_and_time(process, timeout=15)

    assert code == 0, (tmp_path / "worker.log").read_text()
    # The grace period (2 s), a long poll (1 s) in flight and process exit; not the job's 60 s.
    assert took < 2 + 1 + 3
    # Nothing is lost: all three messages are visible again at once, none finished.
    assert counts(config.jobs_queue_url) == (3, 0)
    assert sorted(statuses(sessions, job_ids)) == ["queued", "queued", "running"]
