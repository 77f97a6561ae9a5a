"""The worker's own settings (environment ``COUNTERPROMO_WORKER_*``, overridden by CLI flags).

Where the queue, buckets and database are comes from storage's ``load_config``
(environment first, then SSM and Secrets Manager); these settings only say how
hard and how patiently this process works.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    outbox_interval_seconds: float = Field(default=5, ge=0)
    """How often this worker sends job messages left unsent in the outbox (0: never)."""

    log_level: str = "INFO"
