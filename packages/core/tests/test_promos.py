"""Promos and items: versions, stable item ids, co-op fields, pagination."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest
from counterpromo_core import assets, promos
from counterpromo_core.db.models import Promo, PromoItem
from counterpromo_core.errors import (
    LimitExceeded,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from counterpromo_core.ports import ManualClock
from counterpromo_core.schemas import (
    MAX_ITEMS_PER_PROMO,
    ItemIn,
    ItemPatch,
    PromoCreate,
    PromoPatch,
)
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

StatementsSent = Callable[[Session], AbstractContextManager[list[str]]]

NewAccount = Callable[..., uuid.UUID]

HAMMER = ItemIn(
    sku="H1",
    name="Claw hammer",
    sale_price=Decimal("9.99"),
    coop_vendor="Stanley",
    coop_amount=Decimal("50.00"),
    coop_note="Q4 fund",
)
SAW = ItemIn(sku="S1", name="Panel saw", sale_price=Decimal("14.50"))
NAILS = ItemIn(sku="N1", name="Nails 1kg")


def _promo(session: Session, account_id: uuid.UUID, clock: ManualClock, **kwargs: object) -> Promo:
    data = PromoCreate.model_validate({"title": "Spring sale", **kwargs})
    return promos.create_promo(session, account_id, data, clock=clock)


def test_create_keeps_item_order_and_fields(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = promos.create_promo(
        session, account_id, PromoCreate(title="Spring", items=[HAMMER, SAW]), clock=clock
    )
    loaded = promos.get_promo(session, account_id, promo.id)
    assert [(i.position, i.sku) for i in loaded.items] == [(0, "H1"), (1, "S1")]
    assert loaded.items[0].coop_amount == Decimal("50.00")
    assert (loaded.status, loaded.version, loaded.template) == ("draft", 1, "multi-product")


def test_update_bumps_the_version_and_checks_it(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock)
    updated = promos.update_promo(
        session, account_id, promo.id, PromoPatch(title="Summer"), expected_version=1
    )
    assert (updated.title, updated.version) == ("Summer", 2)
    with pytest.raises(PreconditionFailed) as caught:
        promos.update_promo(
            session, account_id, promo.id, PromoPatch(cta="Buy"), expected_version=1
        )
    assert caught.value.current_version == 2
    assert promos.get_promo(session, account_id, promo.id).cta is None


def test_two_updates_from_the_same_version_one_wins(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    with sessions.begin() as s:
        promo_id = _promo(s, account_id, clock).id
    first, second = sessions(), sessions()
    try:
        first.begin()
        promos.update_promo(
            first, account_id, promo_id, PromoPatch(title="First"), expected_version=1
        )
        second.begin()
        first.commit()  # the second writer reads the row only after the first committed
        with pytest.raises(PreconditionFailed):
            promos.update_promo(
                second, account_id, promo_id, PromoPatch(title="Second"), expected_version=1
            )
        second.rollback()
    finally:
        first.close()
        second.close()
    with sessions() as s:
        promo = promos.get_promo(s, account_id, promo_id)
        assert (promo.title, promo.version) == ("First", 2)


def test_update_ignores_fields_not_sent_and_refuses_nulls_for_required(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, cta="Call us")
    promos.update_promo(
        session, account_id, promo.id, PromoPatch(status="ready"), expected_version=None
    )
    assert (promo.cta, promo.status) == ("Call us", "ready")
    with pytest.raises(ValidationError):
        PromoPatch.model_validate({"title": None})


def test_item_ids_and_coop_fields_survive_update_reorder_and_replace(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, items=[HAMMER, SAW])
    hammer_id, saw_id = (i.id for i in promo.items)

    promos.update_item(
        session, account_id, promo.id, hammer_id, ItemPatch(sale_price=Decimal("8.99"))
    )
    promos.reorder_items(session, account_id, promo.id, [saw_id, hammer_id])
    # The replacement list does not mention co-op fields: they are kept.
    replacement = [
        ItemIn(sku="S1", name="Panel saw 22in"),
        ItemIn(sku="H1", name="Claw hammer 16oz", sale_price=Decimal("8.49")),
        NAILS,
    ]
    promo = promos.replace_items(session, account_id, promo.id, replacement, expected_version=3)
    session.expire_all()

    items = promos.get_promo(session, account_id, promo.id).items
    assert [i.sku for i in items] == ["S1", "H1", "N1"]
    assert [i.position for i in items] == [0, 1, 2]
    assert items[0].id == saw_id
    assert items[1].id == hammer_id
    assert items[1].name == "Claw hammer 16oz"
    assert items[1].sale_price == Decimal("8.49")
    assert (items[1].coop_vendor, items[1].coop_amount, items[1].coop_note) == (
        "Stanley",
        Decimal("50.00"),
        "Q4 fund",
    )
    assert promos.get_promo(session, account_id, promo.id).version == 4


def test_replace_clears_coop_fields_that_are_sent_as_null(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, items=[HAMMER])
    promos.replace_items(
        session, account_id, promo.id, [ItemIn(sku="H1", name="Hammer", coop_amount=None)]
    )
    item = promos.get_promo(session, account_id, promo.id).items[0]
    assert item.coop_amount is None
    assert item.coop_vendor == "Stanley"


def test_replace_removes_items_not_listed(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, items=[HAMMER, SAW])
    promos.replace_items(session, account_id, promo.id, [SAW])
    session.flush()
    count = session.scalar(
        select(func.count()).select_from(PromoItem).where(PromoItem.promo_id == promo.id)
    )
    assert count == 1


def test_merge_append_updates_matching_skus_in_place(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, items=[HAMMER, SAW])
    hammer_id = promo.items[0].id
    promos.merge_parsed_items(
        session,
        account_id,
        promo.id,
        [ItemIn(sku="H1", name="Hammer v2"), NAILS],
        mode="append",
    )
    items = promos.get_promo(session, account_id, promo.id).items
    assert [(i.sku, i.name) for i in items] == [
        ("H1", "Hammer v2"),
        ("S1", "Panel saw"),
        ("N1", "Nails 1kg"),
    ]
    assert items[0].id == hammer_id
    assert items[0].coop_amount == Decimal("50.00")


def test_a_promo_holds_at_most_the_maximum_items(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    full = [ItemIn(name=f"Item {n}") for n in range(MAX_ITEMS_PER_PROMO)]
    promo = _promo(session, account_id, clock, items=full)
    with pytest.raises(ValidationFailed):
        promos.add_item(session, account_id, promo.id, NAILS)
    with pytest.raises(ValidationFailed):
        promos.merge_parsed_items(session, account_id, promo.id, [NAILS], mode="append")
    with pytest.raises(ValidationError):
        PromoCreate(title="Too many", items=[*full, NAILS])


def test_reorder_needs_a_permutation(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, items=[HAMMER, SAW])
    first = promo.items[0].id
    with pytest.raises(ValidationFailed):
        promos.reorder_items(session, account_id, promo.id, [first, first])
    with pytest.raises(ValidationFailed):
        promos.reorder_items(session, account_id, promo.id, [first])


def test_add_update_and_delete_items(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, items=[HAMMER, SAW])
    added = promos.add_item(session, account_id, promo.id, NAILS)
    assert added.position == 2
    updated = promos.update_item(
        session, account_id, promo.id, added.id, ItemPatch(coop_vendor="Acme Nails")
    )
    assert (updated.name, updated.coop_vendor) == ("Nails 1kg", "Acme Nails")
    promos.delete_item(session, account_id, promo.id, promo.items[0].id)
    items = promos.get_promo(session, account_id, promo.id).items
    assert [(i.position, i.sku) for i in items] == [(0, "S1"), (1, "N1")]
    with pytest.raises(NotFound):
        promos.update_item(session, account_id, promo.id, uuid.uuid4(), ItemPatch(name="x"))


def test_duplicate_copies_items_and_counts_as_a_create(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("free")  # 3 promos a month
    promo = _promo(session, account_id, clock, items=[HAMMER, SAW])
    copy = promos.duplicate_promo(session, account_id, promo.id, clock=clock)
    assert copy.title == "Spring sale (copy)"
    assert [i.sku for i in copy.items] == ["H1", "S1"]
    assert {i.id for i in copy.items}.isdisjoint({i.id for i in promo.items})
    assert copy.items[0].coop_note == "Q4 fund"
    promos.duplicate_promo(session, account_id, promo.id, clock=clock)
    with pytest.raises(LimitExceeded):
        promos.duplicate_promo(session, account_id, promo.id, clock=clock)


def test_archive_restore_and_delete(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock, items=[HAMMER])
    assert promos.archive_promo(session, account_id, promo.id).status == "archived"
    assert [p.id for p in promos.list_promos(session, account_id, status="archived").items] == [
        promo.id
    ]
    assert promos.list_promos(session, account_id, status="draft").items == []
    assert promos.restore_promo(session, account_id, promo.id).status == "draft"
    promos.delete_promo(session, account_id, promo.id)
    with pytest.raises(NotFound):
        promos.get_promo(session, account_id, promo.id)
    with pytest.raises(NotFound):
        promos.delete_promo(session, account_id, promo.id)


def test_list_pages_through_every_promo_once(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("dealer")
    created = [_promo(session, account_id, clock, title=f"P{n}").id for n in range(7)]
    seen: list[uuid.UUID] = []
    cursor = None
    pages = 0
    while True:
        page = promos.list_promos(session, account_id, limit=3, cursor=cursor)
        seen += [p.id for p in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == list(reversed(created))


def test_list_gives_summaries_without_items(
    session: Session, new_account: NewAccount, clock: ManualClock, statements_sent: StatementsSent
) -> None:
    account_id = new_account("dealer")
    promo = _promo(session, account_id, clock, subhead="Trade only", items=[HAMMER, SAW])
    with statements_sent(session) as sent:
        [listed] = promos.list_promos(session, account_id).items
    assert listed == promos.PromoSummary(
        id=promo.id,
        title="Spring sale",
        subhead="Trade only",
        cta=None,
        template=promo.template,
        status="draft",
        version=promo.version,
        created_at=promo.created_at,
        updated_at=promo.updated_at,
    )
    assert len(sent) == 1
    assert "promo_items" not in sent[0]


def test_list_rejects_bad_cursor_limit_and_status(
    session: Session, new_account: NewAccount
) -> None:
    account_id = new_account("pro")
    with pytest.raises(ValidationFailed):
        promos.list_promos(session, account_id, cursor="not-a-cursor")
    with pytest.raises(ValidationFailed):
        promos.list_promos(session, account_id, limit=0)
    with pytest.raises(ValidationFailed):
        promos.list_promos(session, account_id, status="published")


def test_item_image_must_be_an_asset_of_the_account(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    with pytest.raises(ValidationFailed) as caught:
        _promo(session, account_id, clock, items=[{"name": "X", "image_asset_id": uuid.uuid4()}])
    assert caught.value.errors[0].field == "items[0].image_asset_id"


def test_mark_ready_turns_a_draft_ready_once(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo = _promo(session, account_id, clock)
    promos.mark_ready(session, account_id, promo.id)
    ready = promos.get_promo(session, account_id, promo.id)
    assert (ready.status, ready.version) == ("ready", 2)
    promos.mark_ready(session, account_id, promo.id)  # already ready: nothing changes
    assert promos.get_promo(session, account_id, promo.id).version == 2
    archived = promos.archive_promo(session, account_id, _promo(session, account_id, clock).id)
    promos.mark_ready(session, account_id, archived.id)
    after = promos.get_promo(session, account_id, archived.id)
    assert (after.status, after.version) == ("archived", archived.version)
    with pytest.raises(NotFound):
        promos.mark_ready(session, account_id, uuid.uuid4())


def _record_output(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> None:
    assets.record_asset(
        session,
        account_id=account_id,
        promo_id=promo_id,
        job_id=None,
        branch_id=None,
        kind="pdf",
        bucket="assets",
        key=f"{account_id}/{promo_id}/{uuid.uuid4()}/promo.pdf",
        content_type="application/pdf",
        size_bytes=1,
        checksum_sha256="0" * 64,
    )


def test_mark_ready_does_not_wait_for_another_transaction_recording_assets(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    """Two renders of one promo, each recording assets (a key-share lock on the promo) and
    marking it ready: the first marks it ready while the second still holds its key-share
    lock (a FOR UPDATE here would wait for it, and two of them would deadlock)."""
    account_id = new_account("pro")
    with sessions.begin() as s:
        promo_id = _promo(s, account_id, clock).id
    first, second = sessions(), sessions()
    try:
        first.begin()
        second.begin()
        first.execute(text("SET LOCAL lock_timeout = '3s'"))
        _record_output(first, account_id, promo_id)
        _record_output(second, account_id, promo_id)
        promos.mark_ready(first, account_id, promo_id)  # a lock wait here would time out
        first.commit()
        promos.mark_ready(second, account_id, promo_id)  # sees "ready": no second bump
        second.commit()
    finally:
        first.close()
        second.close()
    with sessions() as s:
        promo = promos.get_promo(s, account_id, promo_id)
        assert (promo.status, promo.version) == ("ready", 2)
        assert len(assets.list_assets(s, account_id, promo_id)) == 2
