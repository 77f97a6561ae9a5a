"""Cursor pagination over ``(created_at, id)``, newest first.

The cursor is opaque to clients (URL-safe base64 of the last row's key), so
rows inserted while a client pages never shift or repeat what it sees.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from counterpromo_core.errors import ValidationFailed

T = TypeVar("T")
MAX_PAGE_SIZE = 200


class _Keyed(Protocol):
    created_at: dt.datetime
    id: uuid.UUID


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: dt.datetime, id: uuid.UUID) -> str:
    raw = json.dumps({"t": created_at.isoformat(), "id": str(id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        created_at = dt.datetime.fromisoformat(data["t"])
        row_id = uuid.UUID(data["id"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ValidationFailed.single("cursor", "not a cursor this API returned") from exc
    if created_at.tzinfo is None:
        raise ValidationFailed.single("cursor", "not a cursor this API returned")
    return created_at, row_id


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed.single("limit", f"must be between 1 and {MAX_PAGE_SIZE}")


def paginate(
    session: Session,
    statement: Select[T],
    *,
    created_at: InstrumentedAttribute[dt.datetime],
    id: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
) -> Page[T]:
    """Run ``statement`` (which selects one entity) one page at a time, newest first."""
    statement = _page_of(statement, created_at=created_at, id=id, limit=limit, cursor=cursor)
    return cut_page(list(session.scalars(statement).unique()), limit)


def _page_of(
    statement: Select[Any],
    *,
    created_at: InstrumentedAttribute[dt.datetime],
    id: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
) -> Select[Any]:
    check_limit(limit)
    if cursor is not None:
        after_created, after_id = decode_cursor(cursor)
        statement = statement.where(tuple_(created_at, id) < tuple_(after_created, after_id))
    return statement.order_by(created_at.desc(), id.desc()).limit(limit + 1)


def cut_page(rows: list[T], limit: int) -> Page[T]:
    """The page out of ``limit + 1`` rows (newest first, each with ``created_at`` and
    ``id``): the extra one only says that more follow."""
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last: _Keyed = rows[-1]  # type: ignore[assignment]
        next_cursor = encode_cursor(last.created_at, last.id)
    return Page(items=rows, next_cursor=next_cursor)


__all__ = [
    "MAX_PAGE_SIZE",
    "Page",
    "check_limit",
    "cut_page",
    "decode_cursor",
    "encode_cursor",
    "paginate",
]
