"""How a job's failure is classified.

Permanent: the input is bad or the object is gone, so retrying cannot help; the
job is failed with a human-readable reason and its message deleted. Anything
else is transient (network, database, a bug): the message is left to come back,
and the queue's redrive policy moves it to the DLQ if it keeps failing.
"""

from __future__ import annotations

import pydantic
from counterpromo_core.errors import DomainError


class PermanentJobError(Exception):
    """The job cannot succeed as asked; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobAlreadyFinished(Exception):  # noqa: N818 - a signal, not an error condition
    """Another delivery of the same message finished the job first."""


def permanent_reason(error: BaseException) -> str | None:
    """The user-facing reason when ``error`` is permanent, else ``None`` (transient)."""
    if isinstance(error, PermanentJobError):
        return error.reason
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, pydantic.ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in error.errors()
        )
        return f"invalid job data: {problems}"
    return None
