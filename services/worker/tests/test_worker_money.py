"""End to end: a render job prints prices in the account's currency and locale."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pypdfium2 as pdfium
from counterpromo_core import accounts, assets, promos, work
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import ItemIn
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        text = "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def render_and_read(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    run: Callable[[uuid.UUID], Job],
) -> str:
    with sessions.begin() as session:
        job_id = work.request_render(session, account_id, promo_id, clock=SystemClock()).id
    job = run(job_id)
    assert job.status == "succeeded", job.error
    with sessions() as session:
        pdf = next(
            a for a in assets.latest_output_set(session, account_id, promo_id) if a.kind == "pdf"
        )
    return pdf_text(blobs.get_bytes(config.assets_bucket, pdf.key))


def test_a_render_follows_the_accounts_money_and_a_change_of_it(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account("pro", currency="EUR", locale="de-DE")
    promo_id = make_promo(account_id, items=0)
    with sessions.begin() as session:
        promos.replace_items(
            session,
            account_id,
            promo_id,
            [ItemIn(name="Kappsäge", sale_price=Decimal("1299"), rrp=Decimal("1499.50"))],
        )
    start_worker()

    def run(job_id: uuid.UUID) -> Job:
        dispatch()
        wait_until(lambda: job_row(job_id).status not in ("queued", "running"), what="render")
        return job_row(job_id)

    german = render_and_read(
        sessions=sessions,
        blobs=blobs,
        config=config,
        account_id=account_id,
        promo_id=promo_id,
        run=run,
    )
    assert "1.299,00 €" in german
    assert "UVP 1.499,50 €" in german
    assert "Sie sparen 200,50 €" in german

    with sessions.begin() as session:
        accounts.update_account(session, account_id, currency="CAD", locale="fr-CA")
    french = render_and_read(
        sessions=sessions,
        blobs=blobs,
        config=config,
        account_id=account_id,
        promo_id=promo_id,
        run=run,
    )
    assert "1 299,00 $" in french
    assert "Rég. 1 499,50 $" in french
    assert "Économisez 200,50 $" in french
