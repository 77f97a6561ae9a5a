"""Which function handles which job type.

The production registry is ``counterpromo_worker.handlers.default_registry()``;
a test or a local tool may register its own handler for a type (configuration,
not patching: the runtime calls whatever the registry says).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from counterpromo_worker.runtime.context import JobContext

Handler = Callable[[JobContext], None]
"""Does the job and calls ``ctx.finish(...)``; raises to fail (see ``runtime.errors``)."""

FailureHook = Callable[[Session, JobContext, str], None]
"""Runs in the transaction that fails (or kills) the job, e.g. to mark an upload failed."""


@dataclass(frozen=True)
class HandlerSpec:
    run: Handler
    on_failure: FailureHook | None = None


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, HandlerSpec] = {}

    def register(
        self, job_type: str, run: Handler, *, on_failure: FailureHook | None = None
    ) -> None:
        self._handlers[job_type] = HandlerSpec(run, on_failure)

    def get(self, job_type: str) -> HandlerSpec | None:
        return self._handlers.get(job_type)

    @property
    def job_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._handlers))
