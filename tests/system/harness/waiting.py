"""Bounded waiting: every loop here ends after a deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeoutError(AssertionError):
    """What was awaited did not happen in time."""


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.2,
    what: str = "",
) -> T:
    """Call ``predicate`` until it returns something truthy; that value, or ``WaitTimeoutError``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeoutError(
                f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})"
            )
        time.sleep(interval)


def wait_for_progress(
    remaining: Callable[[], int], *, stall_seconds: float, interval: float = 0.2, what: str = ""
) -> None:
    """Wait until ``remaining()`` is 0, for as long as it keeps going down: the deadline is
    ``stall_seconds`` after the last progress, so a slow (busy) machine is waited for while
    a stuck one fails."""
    best = remaining()
    deadline = time.monotonic() + stall_seconds
    while best > 0:
        if time.monotonic() >= deadline:
            raise WaitTimeoutError(
                f"no progress for {stall_seconds:.0f}s waiting for {what} ({best} left)"
            )
        time.sleep(interval)
        now = remaining()
        if now < best:
            best, deadline = now, time.monotonic() + stall_seconds


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
