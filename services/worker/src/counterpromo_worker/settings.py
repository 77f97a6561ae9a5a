"""The worker's own settings (environment ``COUNTERPROMO_WORKER_*``, overridden by CLI flags).

Where the queue, buckets and database are comes from storage's ``load_config``
(environment first, then SSM and Secrets Manager); these settings only say how
hard and how patiently this process works.
"""

from __future__ import annotations

from pathlib import Path

from counterpromo_storage.queue import backoff_visibility
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from counterpromo_worker.runtime.time_limits import DEFAULT_RETRIES, DEFAULT_TIME_LIMITS, TimeLimits


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUNTERPROMO_WORKER_", extra="ignore")

    concurrency: int = Field(default=4, ge=1, le=64)
    """Jobs run at once by this process (one thread each)."""

    grace_seconds: float = Field(default=25, ge=0)
    """After SIGTERM/SIGINT: how long running jobs may take to finish (ECS waits 30 s)."""

    liveness_file: Path | None = None
    """Touched on every turn of the polling loop, for the container health check."""

    wait_seconds: int = Field(default=20, ge=0, le=20)
    """SQS long-polling wait."""

    visibility_seconds: int = Field(default=120, ge=10, le=43_200)
    """The visibility a running job's heartbeat keeps extending its message to."""

    retry_base_seconds: int = Field(default=30, ge=0, le=43_200)
    """How long a message stays hidden after a transient failure, the first time; doubled on
    every further receive (``base * 2^(receive_count - 1)``), up to ``retry_max_seconds``."""

    retry_max_seconds: int = Field(default=900, ge=0, le=43_200)
    """The cap of that retry delay (SQS allows at most 12 hours)."""

    time_limits: dict[str, float] = Field(default_factory=dict)
    """Seconds a job of each type may run, as JSON (``{"render_promo": 60}``); types not
    named keep their default (``runtime.time_limits.DEFAULT_TIME_LIMITS``)."""

    timeout_retries: int = Field(default=DEFAULT_RETRIES, ge=0, le=20)
    """How many more times a job stopped at its time limit is tried before it fails."""

    outbox_interval_seconds: float = Field(default=5, ge=0)
    """How often this worker sends job messages left unsent in the outbox (0: never)."""

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _retry_cap_not_below_base(self) -> WorkerSettings:
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must not be below retry_base_seconds")
        return self

    @field_validator("time_limits")
    @classmethod
    def _positive_limits(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(name for name, seconds in value.items() if not seconds > 0)
        if bad:
            raise ValueError(f"time limits must be above 0 s: {', '.join(bad)}")
        return value

    def job_time_limits(self) -> TimeLimits:
        """The defaults, overridden by ``time_limits``."""
        return TimeLimits({**DEFAULT_TIME_LIMITS, **self.time_limits}, self.timeout_retries)

    def retry_backoff(self, receive_count: int) -> int:
        """Seconds a message stays hidden after a transient failure on this receive
        (storage's ``backoff_visibility``: equal jitter under the doubling ceiling)."""
        return backoff_visibility(
            receive_count, base=self.retry_base_seconds, cap=self.retry_max_seconds
        )
