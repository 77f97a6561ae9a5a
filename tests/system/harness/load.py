"""Concurrent HTTP clients (threads with httpx), bounded in time, recording every answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Answer:
    action: str
    status: int
    content_type: str
    body: str
    at: float

    @property
    def server_error(self) -> bool:
        return self.status >= 500


@dataclass
class Recorder:
    """Thread-safe list of answers; a transport error is recorded as status 0."""

    answers: list[Answer] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, action: str, response: httpx.Response) -> httpx.Response:
        answer = Answer(
            action,
            response.status_code,
            response.headers.get("content-type", ""),
            response.text[:2000],
            time.monotonic(),
        )
        with self._lock:
            self.answers.append(answer)
        return response

    def record_failure(self, error: BaseException) -> None:
        with self._lock:
            self.errors.append(error)

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)


Step = Callable[[httpx.Client, Recorder, int], None]
"""One request (or a few) by client ``n``; called in a loop until the load stops."""


@contextmanager
def running_load(
    base_urls: list[str],
    step: Step,
    *,
    clients: int,
    max_seconds: float,
    pause: float = 0.0,
) -> Iterator[Recorder]:
    """``clients`` threads call ``step`` until the block ends (or ``max_seconds`` pass)."""
    recorder = Recorder()
    stop = threading.Event()
    deadline = time.monotonic() + max_seconds

    def run(n: int) -> None:
        with httpx.Client(base_url=base_urls[n % len(base_urls)], timeout=30) as client:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    step(client, recorder, n)
                except Exception as error:
                    recorder.record_failure(error)
                if pause:
                    stop.wait(pause)

    threads = [
        threading.Thread(target=run, args=(n,), name=f"load-{n}", daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        yield recorder
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        alive = [t.name for t in threads if t.is_alive()]
        if alive:
            raise RuntimeError(f"load threads did not stop: {alive}")
