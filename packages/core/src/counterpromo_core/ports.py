"""Ports: the small Protocols core needs from the outside world.

The services wire up the real adapters (the SQS queue and S3 blob store live in
``counterpromo_storage``); core never imports them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that only moves when told to: for tests, simulations and replays."""

    def __init__(self, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.current = now.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


class JobQueue(Protocol):
    def send_batch(self, bodies: list[dict[str, Any]]) -> list[str]:
        """Send up to 10 message bodies; return the ``job_id`` of every body NOT sent."""
        ...


class BlobReader(Protocol):
    def get_bytes(self, bucket: str, key: str) -> bytes: ...


__all__ = ["BlobReader", "Clock", "JobQueue", "ManualClock", "SystemClock"]
