"""API keys: shown once, stored as a lookup prefix and a SHA-256 of the secret.

A key reads ``cpk_<12 hex>_<43 url-safe chars>``. The ``cpk_<12 hex>`` part is
the stored, indexed prefix; the rest is the secret, of which only the hash is
kept. The secret has 256 random bits, so a plain SHA-256 is enough (no slow
password hash needed), and comparison is constant-time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from counterpromo_core.db.hot_path import HotQuery
from counterpromo_core.db.models import ApiKey, Member, utcnow
from counterpromo_core.errors import PermissionDenied, ValidationFailed
from counterpromo_core.lookup import get_owned
from counterpromo_core.ports import Clock
from counterpromo_core.roles import Actor, Role, has_role, parse_role

KEY_PREFIX = "cpk_"
_KEY = re.compile(r"^(cpk_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Compared against when the prefix is unknown, so both paths do the same work.
_DUMMY_HASH = hashlib.sha256(b"counterpromo-no-such-key").hexdigest()


class _KeyRow(NamedTuple):
    id: uuid.UUID
    account_id: uuid.UUID
    member_id: uuid.UUID | None
    role: str
    key_hash: str
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


_KEY_BY_PREFIX = HotQuery.of(
    select(*(getattr(ApiKey, name) for name in _KeyRow._fields)).where(
        ApiKey.prefix == bindparam("prefix")
    )
)


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    plaintext: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session,
    account_id: uuid.UUID,
    *,
    name: str,
    role: Role,
    member_id: uuid.UUID | None = None,
    actor: Actor | None = None,
) -> CreatedApiKey:
    """A new key; its plaintext is in the result and nowhere else, ever.

    A key cannot exceed its creator's role: ``actor`` (``None`` for an operator,
    who is not restricted) needs ``role`` or higher.
    """
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 100:
        raise ValidationFailed.single("name", "must be 1 to 100 characters")
    parse_role(role)
    if actor is not None and not has_role(actor, role):
        raise PermissionDenied(
            role, f"an API key cannot have a higher role than its creator's ({actor.role})"
        )
    if member_id is not None:
        get_owned(session, Member, account_id, member_id, "member")
    prefix = KEY_PREFIX + secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey(
        id=uuid.uuid4(),
        account_id=account_id,
        member_id=member_id,
        name=cleaned,
        role=role,
        prefix=prefix,
        key_hash=_hash(secret),
    )
    session.add(api_key)
    session.flush()
    return CreatedApiKey(api_key=api_key, plaintext=f"{prefix}_{secret}")


def authenticate(session: Session, plaintext: str, *, clock: Clock) -> Actor | None:
    """The actor a key stands for, or None (unknown, malformed, wrong secret, revoked).

    One SELECT of the key's columns, a ``HotQuery`` (this runs on every request). The
    ``last_used_at`` UPDATE is sent only when the stored time is older than
    ``LAST_USED_RESOLUTION``, and its WHERE repeats that condition, so concurrent requests
    still write it at most once a minute.
    """
    match = _KEY.match(plaintext)
    if match is None:
        return None
    prefix, secret = match.groups()
    found = _KEY_BY_PREFIX.first(session, {"prefix": prefix})
    row = _KeyRow(*found) if found is not None else None
    expected = row.key_hash if row is not None else _DUMMY_HASH
    matches = hmac.compare_digest(_hash(secret), expected)
    if row is None or not matches or row.revoked_at is not None:
        return None
    now = clock.now()
    stale_before = now - LAST_USED_RESOLUTION
    if row.last_used_at is None or row.last_used_at < stale_before:
        session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == row.id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < stale_before),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return Actor(
        account_id=row.account_id,
        role=parse_role(row.role),
        member_id=row.member_id,
        api_key_id=row.id,
    )


def list_api_keys(session: Session, account_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.account_id == account_id)
            .order_by(ApiKey.created_at, ApiKey.id)
        )
    )


def _role_needed_for(session: Session, api_key: ApiKey) -> Role:
    """The role an actor needs to change ``api_key``: the key's own role, or ``owner`` for a
    key that belongs to an owner (an admin cannot change owners, nor what they hold)."""
    if api_key.member_id is not None:
        owner_of_key = session.scalar(
            select(Member.role).where(
                Member.id == api_key.member_id, Member.account_id == api_key.account_id
            )
        )
        if owner_of_key == "owner":
            return "owner"
    return parse_role(api_key.role)


def revoke_api_key(
    session: Session, account_id: uuid.UUID, key_id: uuid.UUID, *, actor: Actor | None = None
) -> ApiKey:
    """Revoke a key (idempotent: revoking twice keeps the first time).

    ``actor`` (``None`` for an operator, who is not restricted) needs at least the key's
    role, and the owner role for a key of an owner: an admin cannot revoke an owner's key.
    """
    api_key = get_owned(session, ApiKey, account_id, key_id, "api key", for_update=True)
    if actor is not None:
        needed = _role_needed_for(session, api_key)
        if not has_role(actor, needed):
            raise PermissionDenied(needed, f"only an {needed} can revoke an {needed}'s API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.flush()
    return api_key


__all__ = [
    "KEY_PREFIX",
    "CreatedApiKey",
    "authenticate",
    "create_api_key",
    "list_api_keys",
    "revoke_api_key",
]
