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


def _spread(settings: WorkerSettings, receive_count: int) -> set[int]:
    return {settings.retry_backoff(receive_count) for _ in range(400)}


def test_the_delay_is_jittered_under_a_ceiling_doubling_from_the_base_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = WorkerSettings()
    for receive_count, ceiling in ((1, 30), (2, 60), (5, 480), (6, 900), (20, 900)):
        delays = _spread(defaults, receive_count)
        assert max(delays) <= ceiling
        # Equal jitter: never under half the ceiling, spread over the upper half.
        assert ceiling / 2 <= min(delays) < 0.6 * ceiling
        assert max(delays) > 0.9 * ceiling
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_BASE_SECONDS", "2")
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_MAX_SECONDS", "5")
    assert [max(_spread(WorkerSettings(), n)) for n in (1, 2, 3, 4)] == [2, 4, 5, 5]
    monkeypatch.setenv("COUNTERPROMO_WORKER_RETRY_BASE_SECONDS", "0")
    assert _spread(WorkerSettings(), 3) == {0}


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

    # backoff=None: the delay the settings give (at most 3 s, then 6 s), as in production.
    start_worker(registry, backoff=None, retry_base_seconds=3, retry_max_seconds=6)
    assert second.wait(timeout=60), "the message never came back"
    # Hidden for a jittered part of the configured 3 s, not the default 30 s.
    assert calls[1] - calls[0] < 30
