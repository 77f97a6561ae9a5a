"""``Idempotency-Key``: the first response to a POST is replayed for retries of it.

A key is claimed with one atomic INSERT .. ON CONFLICT DO NOTHING in its own
short transaction, so a concurrent duplicate sees it at once (409 while the
first is in flight). The response is stored by the request's own transaction,
together with the work it describes; when the request fails the claim is
released so the client can retry with the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from counterpromo_core.db.models import IdempotencyKey
from counterpromo_core.idempotency import KEY_RETENTION
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from counterpromo_api.problems import ApiProblem

TTL = KEY_RETENTION  # 24 h, defined once in core (which also prunes expired keys)
# A claim with no response after this long belongs to a request that died mid-way.
ABANDONED_AFTER = dt.timedelta(minutes=5)
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


@dataclass(frozen=True)
class Claim:
    id: uuid.UUID


class Replay(Exception):  # noqa: N818 - control flow, not an error
    """The stored first response to this key and body."""

    def __init__(self, status: int, stored: dict[str, Any]) -> None:
        super().__init__("idempotent replay")
        self.status = status
        self.body = stored.get("body")
        self.location: str | None = stored.get("location")


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim(
    sessions: sessionmaker[Session],
    account_id: uuid.UUID,
    key: str,
    request_hash: str,
    *,
    now: dt.datetime,
) -> Claim:
    """Own ``key`` for this request, or raise ``Replay`` / a 409 or 422 problem."""
    for _ in range(3):
        with sessions.begin() as session:
            claimed = session.scalar(
                insert(IdempotencyKey)
                .values(
                    id=uuid.uuid4(),
                    account_id=account_id,
                    key=key,
                    request_hash=request_hash,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["account_id", "key"])
                .returning(IdempotencyKey.id)
            )
            if claimed is None:
                claimed = _take_over_stale(session, account_id, key, request_hash, now)
            if claimed is not None:
                return Claim(claimed)
            existing = session.scalar(
                select(IdempotencyKey).where(
                    IdempotencyKey.account_id == account_id, IdempotencyKey.key == key
                )
            )
        if existing is None:
            continue  # released between our statements: try again
        if existing.request_hash != request_hash:
            raise ApiProblem(
                422,
                "idempotency-key-reused",
                "this Idempotency-Key was used for a different request; use a new key",
            )
        if existing.response_status is None:
            raise ApiProblem(
                409,
                "idempotency-key-in-flight",
                "a request with this Idempotency-Key is still being processed; retry shortly",
                headers={"Retry-After": "1"},
            )
        raise Replay(existing.response_status, existing.response_body or {})
    raise ApiProblem(
        409, "idempotency-key-in-flight", "this Idempotency-Key is busy; retry shortly"
    )


def _take_over_stale(
    session: Session, account_id: uuid.UUID, key: str, request_hash: str, now: dt.datetime
) -> uuid.UUID | None:
    """Reuse an expired key (older than 24 h) or an abandoned claim, atomically."""
    result: uuid.UUID | None = session.scalar(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.account_id == account_id,
            IdempotencyKey.key == key,
            or_(
                IdempotencyKey.created_at < now - TTL,
                and_(
                    IdempotencyKey.response_status.is_(None),
                    IdempotencyKey.created_at < now - ABANDONED_AFTER,
                ),
            ),
        )
        .values(request_hash=request_hash, response_status=None, response_body=None, created_at=now)
        .returning(IdempotencyKey.id)
    )
    return result


def store(session: Session, claimed: Claim, status: int, body: Any, location: str | None) -> None:
    """Record the response in the request's transaction (commits with the work)."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claimed.id)
        .values(response_status=status, response_body={"body": body, "location": location})
    )


def release(sessions: sessionmaker[Session], claimed: Claim) -> None:
    with sessions.begin() as session:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == claimed.id, IdempotencyKey.response_status.is_(None)
            )
        )
