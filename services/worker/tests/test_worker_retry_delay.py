"""The retry delay after a transient failure comes from the worker's settings
(``COUNTERPROMO_WORKER_RETRY_BASE_SECONDS`` doubling, capped by ``_RETRY_MAX_SECONDS``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pydantic
import pytest
from counterpromo_core import work
from counterpromo_core.ports import SystemClock
from counterpromo_worker.handlers import default_registry
from counterpromo_worker.runtime.context import JobContext
from counterpromo_worker.settings import WorkerSettings
from sqlalchemy.orm import Session, sessionmaker


def test_the_delay_doubles_from_the_base_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [WorkerSettings().retry_backoff(n) for n in (1, 2, 5, 6, 20)] == [30, 60, 480, 900, 900]
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_BASE_SECONDS", "2")
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_MAX_SECONDS", "5")
    assert [WorkerSettings().retry_backoff(n) for n in (1, 2, 3, 4)] == [2, 4, 5, 5]
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_BASE_SECONDS", "0")
    assert WorkerSettings().retry_backoff(3) == 0


def test_a_cap_below_the_base_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_BASE_SECONDS", "60")
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_MAX_SECONDS", "30")
    with pytest.raises(pydantic.ValidationError, match="retry_max_seconds"):
        WorkerSettings()


def test_the_worker_hides_a_failed_message_for_the_configured_delay(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
) -> None:
    calls: list[float] = []
    second = threading.Event()

    def fails_once(ctx: JobContext) -> None:
        calls.append(time.monotonic())
        if ctx.receive_count == 1:
            raise ConnectionError("the database went away")
        second.set()
        raise ConnectionError("still away")

    registry = default_registry()
    registry.register("render_promo", fails_once)
    account_id = make_account()
    promo_id = make_promo(account_id, items=1)
    with sessions.begin() as session:
        work.request_render(session, account_id, promo_id, clock=SystemClock())
    dispatch()

    # backoff=None: the delay the settings give (3 s, then 6 s), as in production.
    start_worker(registry, backoff=None, retry_base_seconds=3, retry_max_seconds=6)
    assert second.wait(timeout=60), "the message never came back"
    # Hidden for the configured 3 s (not 30 s, not at once); time only adds to it.
    assert 3.0 - 0.5 <= calls[1] - calls[0] < 30
