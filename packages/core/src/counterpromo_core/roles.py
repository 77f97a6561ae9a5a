"""Roles and the actor a request or job acts as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, get_args

from counterpromo_core.errors import PermissionDenied, ValidationFailed

Role = Literal["owner", "admin", "member"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK: dict[str, int] = {"member": 0, "admin": 1, "owner": 2}


@dataclass(frozen=True)
class Actor:
    account_id: uuid.UUID
    role: Role
    member_id: uuid.UUID | None
    api_key_id: uuid.UUID | None


def parse_role(value: str) -> Role:
    """``value`` as a Role, or ``ValidationFailed``."""
    for role in ROLES:
        if value == role:
            return role
    raise ValidationFailed.single("role", f"must be one of {', '.join(ROLES)}")


def has_role(actor: Actor, minimum: Role) -> bool:
    return _RANK[actor.role] >= _RANK[minimum]


def require_role(actor: Actor, minimum: Role) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` has ``minimum`` or a higher role.

    owner > admin > member.
    """
    if not has_role(actor, minimum):
        raise PermissionDenied(minimum)


__all__ = ["ROLES", "Actor", "Role", "has_role", "parse_role", "require_role"]
