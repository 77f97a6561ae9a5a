"""Typed domain errors.

The API maps them to problem details and the CLI to messages; they carry the
facts (which resource, which limit) and never HTTP or CLI concepts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a use-case raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):  # noqa: N818 (names fixed by the contract)
    """The object does not exist, or belongs to another account."""

    def __init__(self, resource: str, id: object) -> None:
        super().__init__(f"{resource} {id} not found")
        self.resource = resource
        self.id = str(id)


class Conflict(DomainError):  # noqa: N818 (names fixed by the contract)
    """The change clashes with the current state (duplicate name, last owner...)."""


class PreconditionFailed(Conflict):
    """Optimistic concurrency: the caller's expected version is not the current one."""

    def __init__(self, resource: str, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"{resource} is at version {current_version}, not {expected_version}: "
            "reload it and apply the change again"
        )
        self.expected_version = expected_version
        self.current_version = current_version


class LimitExceeded(DomainError):  # noqa: N818 (names fixed by the contract)
    """The plan's monthly (or absolute) limit for ``metric`` is reached."""

    def __init__(self, metric: str, limit: int, used: int, resets_at: dt.datetime | None) -> None:
        when = f"; it resets at {resets_at.isoformat()}" if resets_at is not None else ""
        super().__init__(f"the plan allows {limit} {metric}, {used} used{when}")
        self.metric = metric
        self.limit = limit
        self.used = used
        self.resets_at = resets_at


class FeatureNotInPlan(DomainError):  # noqa: N818 (names fixed by the contract)
    def __init__(self, feature: str, plan: str) -> None:
        super().__init__(f"the {plan} plan does not include {feature}")
        self.feature = feature
        self.plan = plan


class PermissionDenied(DomainError):  # noqa: N818 (names fixed by the contract)
    def __init__(self, required_role: str, message: str | None = None) -> None:
        super().__init__(message or f"this needs the {required_role} role or higher")
        self.required_role = required_role


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(DomainError):  # noqa: N818 (names fixed by the contract)
    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(message or f"invalid input: {detail}")
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])


__all__ = [
    "Conflict",
    "DomainError",
    "FeatureNotInPlan",
    "FieldError",
    "LimitExceeded",
    "NotFound",
    "PermissionDenied",
    "PreconditionFailed",
    "ValidationFailed",
]
