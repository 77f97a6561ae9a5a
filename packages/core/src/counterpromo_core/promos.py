"""Promos and their ordered items.

Every change to a promo or its items takes the promo's row lock and bumps its
``version``, so a caller that sends ``expected_version`` never overwrites a
change it has not seen (``PreconditionFailed``). Items keep their ids across
updates, reorders and replacements: an incoming item whose SKU matches an
existing one updates that row (and keeps co-op fields the input does not set).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, fields
from typing import Literal

from sqlalchemy import bindparam, delete, exists, func, select, tuple_, update
from sqlalchemy.orm import Session, selectinload

from counterpromo_core.db.hot_path import HotQuery
from counterpromo_core.db.models import PROMO_STATUSES, Promo, PromoItem, utcnow
from counterpromo_core.errors import NotFound, PreconditionFailed, ValidationFailed
from counterpromo_core.lookup import ensure_pictures_owned, get_owned
from counterpromo_core.pagination import Page, check_limit, cut_page, decode_cursor
from counterpromo_core.ports import Clock
from counterpromo_core.schemas import (
    MAX_ITEMS_PER_PROMO,
    ItemIn,
    ItemPatch,
    PromoCreate,
    PromoPatch,
)
from counterpromo_core.usage import consume

ITEM_FIELDS: tuple[str, ...] = tuple(ItemIn.model_fields)
COOP_FIELDS = ("coop_vendor", "coop_amount", "coop_note")
MergeMode = Literal["append", "replace"]


def _load(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    *,
    for_update: bool = False,
    expected_version: int | None = None,
) -> Promo:
    promo = get_owned(
        session,
        Promo,
        account_id,
        promo_id,
        "promo",
        for_update=for_update,
        options=[selectinload(Promo.items)],
    )
    if expected_version is not None and promo.version != expected_version:
        raise PreconditionFailed("promo", expected_version, promo.version)
    return promo


def _lock(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    expected_version: int | None = None,
) -> Promo:
    """The promo, locked until the transaction ends, at the version the caller expects."""
    return _load(session, account_id, promo_id, for_update=True, expected_version=expected_version)


def _touch(promo: Promo) -> None:
    promo.version += 1
    promo.updated_at = utcnow()


def _check_assets(session: Session, account_id: uuid.UUID, items: list[ItemIn]) -> None:
    ensure_pictures_owned(
        session,
        account_id,
        {f"items[{i}].image_asset_id": item.image_asset_id for i, item in enumerate(items)},
    )


def _new_item(account_id: uuid.UUID, data: ItemIn) -> PromoItem:
    row = PromoItem(id=uuid.uuid4(), account_id=account_id)
    for field in ITEM_FIELDS:
        setattr(row, field, getattr(data, field))
    return row


def _update_item(row: PromoItem, data: ItemIn) -> None:
    """Overwrite ``row`` with ``data``, except co-op fields ``data`` leaves unset."""
    for field in ITEM_FIELDS:
        if field in COOP_FIELDS and field not in data.model_fields_set:
            continue
        setattr(row, field, getattr(data, field))
    row.updated_at = utcnow()


def _set_items(promo: Promo, rows: list[PromoItem]) -> None:
    if len(rows) > MAX_ITEMS_PER_PROMO:
        raise ValidationFailed.single(
            "items", f"a promo holds at most {MAX_ITEMS_PER_PROMO} items, not {len(rows)}"
        )
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
    # Rows left out are deleted (delete-orphan); positions are checked at commit (deferred).
    promo.items = rows


def _merge(promo: Promo, incoming: list[ItemIn], mode: MergeMode) -> None:
    by_sku: dict[str, list[PromoItem]] = defaultdict(list)
    for row in promo.items:
        if row.sku is not None:
            by_sku[row.sku].append(row)
    kept = list(promo.items) if mode == "append" else []
    for data in incoming:
        matches = by_sku.get(data.sku) if data.sku is not None else None
        if matches:
            row = matches.pop(0)
            _update_item(row, data)
            if mode == "replace":
                kept.append(row)
        else:
            kept.append(_new_item(promo.account_id, data))
    _set_items(promo, kept)


def create_promo(
    session: Session, account_id: uuid.UUID, data: PromoCreate, *, clock: Clock
) -> Promo:
    """A new draft promo; counts one ``promos_created`` (``LimitExceeded`` when used up)."""
    _check_assets(session, account_id, data.items)
    consume(session, account_id, "promos_created", clock=clock)
    promo = Promo(
        id=uuid.uuid4(),
        account_id=account_id,
        title=data.title,
        subhead=data.subhead,
        cta=data.cta,
        template=data.template,
        status="draft",
        version=1,
        items=[],
    )
    _set_items(promo, [_new_item(account_id, item) for item in data.items])
    session.add(promo)
    session.flush()
    return promo


def get_promo(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> Promo:
    return _load(session, account_id, promo_id)


@dataclass(frozen=True)
class PromoSummary:
    """A promo as lists show it: its own fields, no items."""

    id: uuid.UUID
    title: str
    subhead: str | None
    cta: str | None
    template: str
    status: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


_SUMMARY_COLUMNS = tuple(getattr(Promo, f.name) for f in fields(PromoSummary))


def _summary_page(*, by_status: bool, after: bool) -> HotQuery:
    statement = select(*_SUMMARY_COLUMNS).where(Promo.account_id == bindparam("account_id"))
    if by_status:
        statement = statement.where(Promo.status == bindparam("status"))
    if after:
        statement = statement.where(
            tuple_(Promo.created_at, Promo.id)
            < tuple_(bindparam("after_created"), bindparam("after_id"))
        )
    statement = statement.order_by(Promo.created_at.desc(), Promo.id.desc())
    return HotQuery.of(statement.limit(bindparam("limit")))


# One compiled statement per shape of the request: with or without a status, first page or not.
_SUMMARY_PAGES = {
    (by_status, after): _summary_page(by_status=by_status, after=after)
    for by_status in (False, True)
    for after in (False, True)
}


def list_promos(
    session: Session,
    account_id: uuid.UUID,
    *,
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page[PromoSummary]:
    """A page of the account's promos, newest first, as summaries (no items).

    One SELECT of the summary columns, a ``HotQuery`` (the hottest read of the API); no
    items (``get_promo`` reads one promo with its items).
    """
    check_limit(limit)
    params: dict[str, object] = {"account_id": account_id, "limit": limit + 1}
    if status is not None:
        if status not in PROMO_STATUSES:
            raise ValidationFailed.single("status", f"must be one of {', '.join(PROMO_STATUSES)}")
        params["status"] = status
    if cursor is not None:
        params["after_created"], params["after_id"] = decode_cursor(cursor)
    query = _SUMMARY_PAGES[status is not None, cursor is not None]
    return cut_page([PromoSummary(*row) for row in query.rows(session, params)], limit)


def update_promo(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    data: PromoPatch,
    *,
    expected_version: int | None,
) -> Promo:
    promo = _lock(session, account_id, promo_id, expected_version)
    changes = data.changes()
    if not changes:
        return promo
    if "status" in changes and promo.status == "archived":
        raise ValidationFailed.single("status", "restore the promo before changing its status")
    for field, value in changes.items():
        setattr(promo, field, value)
    _touch(promo)
    session.flush()
    return promo


def duplicate_promo(
    session: Session, account_id: uuid.UUID, promo_id: uuid.UUID, *, clock: Clock
) -> Promo:
    """A draft copy with copies of the items, titled "... (copy)"; counts as a create."""
    source = _load(session, account_id, promo_id)
    consume(session, account_id, "promos_created", clock=clock)
    suffix = " (copy)"
    copy = Promo(
        id=uuid.uuid4(),
        account_id=account_id,
        title=source.title[: 200 - len(suffix)] + suffix,
        subhead=source.subhead,
        cta=source.cta,
        template=source.template,
        status="draft",
        version=1,
        items=[],
    )
    rows = []
    for item in source.items:
        row = PromoItem(id=uuid.uuid4(), account_id=account_id)
        for field in ITEM_FIELDS:
            setattr(row, field, getattr(item, field))
        rows.append(row)
    _set_items(copy, rows)
    session.add(copy)
    session.flush()
    return copy


def _set_status(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    status: str,
    expected_version: int | None,
) -> Promo:
    promo = _lock(session, account_id, promo_id, expected_version)
    if promo.status != status:
        promo.status = status
        _touch(promo)
        session.flush()
    return promo


def archive_promo(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    *,
    expected_version: int | None = None,
) -> Promo:
    return _set_status(session, account_id, promo_id, "archived", expected_version)


def restore_promo(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    *,
    expected_version: int | None = None,
) -> Promo:
    """Bring an archived promo back as a draft (a promo that is not archived is unchanged)."""
    promo = _lock(session, account_id, promo_id, expected_version)
    if promo.status == "archived":
        promo.status = "draft"
        _touch(promo)
        session.flush()
    return promo


def delete_promo(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> None:
    deleted = session.scalar(
        delete(Promo)
        .where(Promo.id == promo_id, Promo.account_id == account_id)
        .returning(Promo.id)
    )
    if deleted is None:
        raise NotFound("promo", promo_id)


def mark_ready(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> None:
    """A draft promo becomes ``ready`` (its outputs exist); any other status is left alone.

    One conditional UPDATE and no lock taken beforehand: the row lock it takes
    (``FOR NO KEY UPDATE``) does not conflict with the key-share locks that
    inserting rows referencing the promo (assets) takes, so callers may record
    assets before or after it without deadlocking one another. Concurrent calls
    turn it ready (and bump ``version``) once. ``NotFound`` when the promo is not
    the account's.
    """
    changed = session.scalar(
        update(Promo)
        .where(Promo.id == promo_id, Promo.account_id == account_id, Promo.status == "draft")
        .values(status="ready", version=Promo.version + 1, updated_at=func.now())
        .returning(Promo.id)
        .execution_options(synchronize_session="fetch")
    )
    if changed is None:
        owned = exists().where(Promo.id == promo_id, Promo.account_id == account_id)
        if not session.scalar(select(owned)):
            raise NotFound("promo", promo_id)


def replace_items(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    items: list[ItemIn],
    *,
    expected_version: int | None = None,
) -> Promo:
    """Make ``items`` the promo's items, keeping ids (and unset co-op fields) where SKUs match."""
    promo = _lock(session, account_id, promo_id, expected_version)
    _check_assets(session, account_id, items)
    _merge(promo, items, "replace")
    _touch(promo)
    session.flush()
    return promo


def merge_parsed_items(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    items: list[ItemIn],
    *,
    mode: MergeMode,
) -> Promo:
    """Merge items parsed from an upload: append (SKU matches update in place) or replace."""
    if mode not in ("append", "replace"):
        raise ValidationFailed.single("mode", "must be append or replace")
    promo = _lock(session, account_id, promo_id)
    _check_assets(session, account_id, items)
    _merge(promo, items, mode)
    _touch(promo)
    session.flush()
    return promo


def add_item(
    session: Session, account_id: uuid.UUID, promo_id: uuid.UUID, item: ItemIn
) -> PromoItem:
    promo = _lock(session, account_id, promo_id)
    _check_assets(session, account_id, [item])
    row = _new_item(account_id, item)
    _set_items(promo, [*promo.items, row])
    _touch(promo)
    session.flush()
    return row


def _item_of(promo: Promo, item_id: uuid.UUID) -> PromoItem:
    for row in promo.items:
        if row.id == item_id:
            return row
    raise NotFound("item", item_id)


def update_item(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    item_id: uuid.UUID,
    patch: ItemPatch,
) -> PromoItem:
    promo = _lock(session, account_id, promo_id)
    row = _item_of(promo, item_id)
    changes = patch.changes()
    if "image_asset_id" in changes:
        ensure_pictures_owned(session, account_id, {"image_asset_id": patch.image_asset_id})
    if changes:
        for field, value in changes.items():
            setattr(row, field, value)
        row.updated_at = utcnow()
        _touch(promo)
        session.flush()
    return row


def delete_item(
    session: Session, account_id: uuid.UUID, promo_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    promo = _lock(session, account_id, promo_id)
    row = _item_of(promo, item_id)
    _set_items(promo, [r for r in promo.items if r is not row])
    _touch(promo)
    session.flush()


def reorder_items(
    session: Session, account_id: uuid.UUID, promo_id: uuid.UUID, item_ids: list[uuid.UUID]
) -> Promo:
    """Put the items in the order of ``item_ids``, which must list each item exactly once."""
    promo = _lock(session, account_id, promo_id)
    by_id = {row.id: row for row in promo.items}
    if len(item_ids) != len(by_id) or set(item_ids) != set(by_id):
        raise ValidationFailed.single("item_ids", "must list every item of the promo exactly once")
    _set_items(promo, [by_id[i] for i in item_ids])
    _touch(promo)
    session.flush()
    return promo


__all__ = [
    "MAX_ITEMS_PER_PROMO",
    "PromoSummary",
    "add_item",
    "archive_promo",
    "create_promo",
    "delete_item",
    "delete_promo",
    "duplicate_promo",
    "get_promo",
    "list_promos",
    "mark_ready",
    "merge_parsed_items",
    "reorder_items",
    "replace_items",
    "restore_promo",
    "update_item",
    "update_promo",
]
