"""Each job type's time limit, and what running past it means for the job.

A job that runs past its limit is stopped (a render's process is killed, see
``rendering.pool``), tried again (a transient failure: the message comes back after the
jittered retry delay) up to ``retries`` more times, then failed with a reason that says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from counterpromo_worker.runtime.errors import PermanentJobError

DEFAULT_TIME_LIMITS: Mapping[str, float] = MappingProxyType(
    {"render_promo": 120.0, "parse_upload": 120.0, "export_bundle": 300.0, "coop_report": 120.0}
)
DEFAULT_LIMIT_SECONDS = 120.0
"""For a job type without a limit of its own."""
DEFAULT_RETRIES = 1


class JobTimedOut(Exception):  # noqa: N818 - reads as what happened
    """The job ran past its time limit and was stopped; it may be tried again."""


@dataclass(frozen=True)
class TimeLimits:
    seconds: Mapping[str, float] = field(default_factory=lambda: DEFAULT_TIME_LIMITS)
    retries: int = DEFAULT_RETRIES
    """How many more times a job that ran out of time is tried before it fails."""

    def limit_for(self, job_type: str) -> float:
        return self.seconds.get(job_type, DEFAULT_LIMIT_SECONDS)

    def ran_out(self, job_type: str, receive_count: int) -> Exception:
        """The error to raise for a job stopped at its limit on this receive.

        Transient (``JobTimedOut``) while tries remain, then permanent: the job is failed
        with this reason and its message deleted.
        """
        reason = (
            f"the {job_type} job ran past its time limit of "
            f"{self.limit_for(job_type):g} s and was stopped"
        )
        if receive_count > self.retries:
            return PermanentJobError(f"{reason} ({receive_count} attempts)")
        return JobTimedOut(reason)
